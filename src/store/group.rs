//! Group commit: requests that write hand their work to one task, which runs all the work
//! waiting when it is free in one go (on SQLite one transaction, one trip to the connection's
//! worker thread) and answers each request.
//!
//! SQLite has one writer at a time. When every refresh commits on its own, each pays for its own
//! commit, its own write lock and the other connections' page caches thrown away by it; when
//! they queue for the lock, SQLite's busy handler makes them sleep. Taking them together costs one
//! of each per group. A request alone finds the task idle and is run at once: no waiting for
//! company, so a light load is answered as fast as before.
//!
//! Work whose request was abandoned before its group started (the client hung up, its time ran
//! out) is dropped unrun: a refresh that nobody will read must not use up the refresh token.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{mpsc, oneshot};

/// A queue of jobs `J` whose results are `R`, served by one task.
pub struct Group<J, R> {
    queue: mpsc::Sender<(J, oneshot::Sender<R>)>,
    /// The most jobs run together so far (for tests and diagnostics).
    largest: Arc<AtomicUsize>,
}

impl<J, R> Clone for Group<J, R> {
    fn clone(&self) -> Self {
        Group {
            queue: self.queue.clone(),
            largest: Arc::clone(&self.largest),
        }
    }
}

impl<J, R> std::fmt::Debug for Group<J, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group").finish_non_exhaustive()
    }
}

/// Why a job got no result.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The queue stayed full for [`super::ACQUIRE_TIMEOUT`]: a flood is refused, not queued
    /// without end.
    Full,
    /// The task is gone (the store is closing) or failed while running the job's group.
    Gone,
}

impl<J: Send + 'static, R: Send + 'static> Group<J, R> {
    /// A group whose task runs at most `most` jobs at a time with `run`, which returns one
    /// result per job, in order; at most `queued` jobs wait. Must be called within a Tokio
    /// runtime. The task ends when every clone of the group is dropped.
    pub fn new<F, Fut>(most: usize, queued: usize, run: F) -> Self
    where
        F: Fn(Vec<J>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<R>> + Send + 'static,
    {
        let (queue, mut waiting) = mpsc::channel::<(J, oneshot::Sender<R>)>(queued.max(1));
        let most = most.max(1);
        let largest = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&largest);
        tokio::spawn(async move {
            let mut taken = Vec::with_capacity(most);
            while waiting.recv_many(&mut taken, most).await > 0 {
                let (jobs, answers): (Vec<J>, Vec<oneshot::Sender<R>>) = taken
                    .drain(..)
                    .filter(|(_, answer)| !answer.is_closed())
                    .unzip();
                if jobs.is_empty() {
                    continue;
                }
                seen.fetch_max(jobs.len(), Ordering::Relaxed);
                // Run apart, so that a panic fails this group's requests, not the queue.
                let Ok(results) = tokio::spawn(run(jobs)).await else {
                    continue;
                };
                for (result, answer) in results.into_iter().zip(answers) {
                    let _ = answer.send(result);
                }
            }
        });
        Group { queue, largest }
    }

    /// The most jobs run together so far.
    pub fn largest(&self) -> usize {
        self.largest.load(Ordering::Relaxed)
    }

    /// The result of `job`, run with the jobs that are waiting when the task is next free.
    pub async fn run(&self, job: J) -> Result<R, Refused> {
        let (answer, result) = oneshot::channel();
        match tokio::time::timeout(super::ACQUIRE_TIMEOUT, self.queue.send((job, answer))).await {
            Err(_) => return Err(Refused::Full),
            Ok(Err(_)) => return Err(Refused::Gone),
            Ok(Ok(())) => {}
        }
        result.await.map_err(|_| Refused::Gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Concurrent jobs are answered each with its own result, in groups of at most `most`, and
    /// jobs queued while a group runs are taken together.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_job_gets_its_own_result_in_groups() {
        let groups = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = Arc::clone(&groups);
        let group = Group::new(4, 100, move |jobs: Vec<u32>| {
            seen.lock().unwrap().push(jobs.len());
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                jobs.into_iter().map(|j| j * 10).collect()
            }
        });
        let answers = futures_util::future::join_all((0..40).map(|i| {
            let group = group.clone();
            async move { (i, group.run(i).await) }
        }))
        .await;
        for (i, answer) in answers {
            assert_eq!(answer, Ok(i * 10));
        }
        let sizes = groups.lock().unwrap().clone();
        assert_eq!(sizes.iter().sum::<usize>(), 40);
        assert!(sizes.iter().all(|&n| (1..=4).contains(&n)), "{sizes:?}");
        assert!(
            sizes.iter().any(|&n| n > 1),
            "nothing was grouped: {sizes:?}"
        );
        assert_eq!(group.largest(), *sizes.iter().max().unwrap());
    }

    /// A panicking group fails its own jobs only; abandoned jobs are not run.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_group_or_an_abandoned_job_costs_nothing_else() {
        let ran = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&ran);
        let group = Group::new(8, 100, move |jobs: Vec<u32>| {
            counted.fetch_add(jobs.len(), Ordering::SeqCst);
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                assert!(!jobs.contains(&666), "boom");
                jobs
            }
        });
        assert_eq!(group.run(666).await, Err(Refused::Gone));
        assert_eq!(group.run(7).await, Ok(7));
        // One job holds the task; one queued behind it is abandoned before it starts.
        let busy = tokio::spawn({
            let group = group.clone();
            async move { group.run(1).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let abandoned = tokio::time::timeout(std::time::Duration::from_millis(1), group.run(2));
        assert!(abandoned.await.is_err());
        assert_eq!(busy.await.unwrap(), Ok(1));
        assert_eq!(group.run(3).await, Ok(3));
        assert_eq!(ran.load(Ordering::SeqCst), 4, "the abandoned job ran");
    }
}
