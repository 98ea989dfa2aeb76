//! Where password work runs: a few long-lived argon2 threads fed by a two-lane queue, and the
//! bounded [`HashQueue`] sign-ins take a place in before they hash.
//!
//! Returning users (a sign-in from a trusted device, see `domain::devices`) get a lane of their
//! own at both: places in the [`HashQueue`] untrusted sign-ins cannot take, and at the workers a
//! trusted job is taken before any queued untrusted one, so it waits at most for the argon2
//! computations already running, however many untrusted jobs are queued.

use super::{DomainError, Result};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, LazyLock, Mutex};

/// Password work waiting for a worker.
type Job = Box<dyn FnOnce() + Send>;

/// Which queue of the password workers a job waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// A sign-in from a trusted device: taken before every queued [`Lane::Normal`] job.
    Trusted,
    /// Everything else (first in, first out).
    Normal,
}

#[derive(Default)]
struct Lanes {
    trusted: VecDeque<Job>,
    normal: VecDeque<Job>,
}

/// A pool of password worker threads over two lanes.
pub struct Workers {
    lanes: Mutex<Lanes>,
    ready: Condvar,
}

impl Workers {
    /// `threads` worker threads (at least one) named `{name}-{i}`. They live as long as the
    /// process.
    pub fn start(threads: usize, name: &str) -> Arc<Self> {
        let workers = Arc::new(Self {
            lanes: Mutex::new(Lanes::default()),
            ready: Condvar::new(),
        });
        for i in 0..threads.max(1) {
            let w = workers.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    yield_to_requests();
                    while let Some(job) = w.next() {
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password worker thread");
            }
        }
        workers
    }

    /// Queues `job` in `lane`.
    fn submit(&self, lane: Lane, job: Job) -> Result<()> {
        let mut lanes = self
            .lanes
            .lock()
            .map_err(|_| DomainError::Internal("password workers: lock poisoned".into()))?;
        match lane {
            Lane::Trusted => lanes.trusted.push_back(job),
            Lane::Normal => lanes.normal.push_back(job),
        }
        drop(lanes);
        self.ready.notify_one();
        Ok(())
    }

    /// The next job, trusted ones first; waits while there is none (`None`: the lock is
    /// poisoned, the thread ends).
    fn next(&self) -> Option<Job> {
        let mut lanes = self.lanes.lock().ok()?;
        loop {
            if let Some(job) = lanes.trusted.pop_front() {
                return Some(job);
            }
            if let Some(job) = lanes.normal.pop_front() {
                return Some(job);
            }
            lanes = self.ready.wait(lanes).ok()?;
        }
    }

    /// Runs `f` in `lane` on these workers and waits for its answer.
    pub async fn run<T: Send + 'static>(
        &self,
        lane: Lane,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.submit(
            lane,
            Box::new(move || {
                let _ = answer.send(f());
            }),
        )?;
        answered
            .await
            .map_err(|_| DomainError::Internal("a password worker failed".into()))
    }
}

/// The nice value of a password worker thread: above the rest of the process (0), so that when
/// the cores are busy the scheduler gives token requests, pages and SCIM calls (a few hundred
/// microseconds each) about nine tenths of the time and argon2 (tens of milliseconds) the rest;
/// an idle core still runs it at full speed. A sign-in then waits a little longer under load,
/// instead of every other request waiting behind it (BENCHMARKS.md, issue 16).
pub const WORKER_NICE: i32 = 10;

/// Lowers the calling thread's priority to [`WORKER_NICE`] (or keeps it, when the process runs
/// at a lower one already). Linux keeps a nice value per thread, and
/// `setpriority(PRIO_PROCESS, tid)` sets that thread's only; raising a nice value needs no
/// privilege. Elsewhere, or if it fails, the thread keeps its priority (logged).
fn yield_to_requests() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let me = Some(rustix::thread::gettid());
        let nice = getpriority_process(me).map_or(WORKER_NICE, |n| n.max(WORKER_NICE));
        if let Err(e) = setpriority_process(me, nice) {
            tracing::warn!(error = %e, "cannot lower a password worker thread's priority");
        }
    }
}

/// This thread's nice value (Linux), for the tests.
#[cfg(all(test, target_os = "linux"))]
fn nice_of_this_thread() -> i32 {
    rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap()
}

/// The process's password workers, one per core. Each argon2 computation takes 19 MiB and about
/// 20 ms of a core: a burst waits its turn instead of allocating memory without bound, and, since
/// the allocator keeps freed memory per thread, the same few threads reuse it (measured: resident
/// memory grew by about 80 MB per burst of sign-ins on the runtime's blocking threads). A
/// process-wide resource, hence a static.
static WORKERS: LazyLock<Arc<Workers>> = LazyLock::new(|| {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    Workers::start(threads, "castellan-argon2")
});

/// Runs password work `f` on the password workers (normal lane) and waits for its answer.
pub async fn off_runtime<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    WORKERS.run(Lane::Normal, f).await
}

/// Runs password work `f` in `lane` on the password workers and waits for its answer.
pub async fn off_runtime_in<T: Send + 'static>(
    lane: Lane,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    WORKERS.run(lane, f).await
}

/// How long a sign-in turned away by a full [`HashQueue`] is asked to wait (seconds).
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// A bounded queue in front of the password workers: at most `size` untrusted sign-ins (and
/// other password work) wait for or run argon2 at once, plus `reserved` places only trusted
/// sign-ins take. Past it a request is turned away at once ([`DomainError::Unavailable`]), so a
/// flood cannot make the queue, and the wait of the people already in it, grow without bound
/// (each place costs about 20 ms of a core).
pub struct HashQueue {
    open: Arc<tokio::sync::Semaphore>,
    reserved: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for HashQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashQueue")
            .field("open_free", &self.open.available_permits())
            .field("reserved_free", &self.reserved.available_permits())
            .finish()
    }
}

/// A place in the [`HashQueue`], held while the work waits and runs.
pub struct Place(#[allow(dead_code)] tokio::sync::OwnedSemaphorePermit);

fn busy() -> DomainError {
    DomainError::Unavailable {
        retry_after: BUSY_RETRY_AFTER_SECS,
    }
}

impl HashQueue {
    /// A queue of `size` open places (at least one) and `reserved` places for trusted sign-ins.
    pub fn new(size: usize, reserved: usize) -> Self {
        Self {
            open: Arc::new(tokio::sync::Semaphore::new(size.max(1))),
            reserved: Arc::new(tokio::sync::Semaphore::new(reserved)),
        }
    }

    /// Takes an open place, or refuses at once when every one is taken.
    pub fn enter(&self) -> Result<Place> {
        self.open
            .clone()
            .try_acquire_owned()
            .map(Place)
            .map_err(|_| busy())
    }

    /// Takes a place for a trusted sign-in: a reserved one, else an open one; refuses at once
    /// when none is free.
    pub fn enter_trusted(&self) -> Result<Place> {
        match self.reserved.clone().try_acquire_owned() {
            Ok(p) => Ok(Place(p)),
            Err(_) => self.enter(),
        }
    }

    /// Waits for an open place (for callers that may wait, such as the CLI).
    pub async fn wait(&self) -> Result<Place> {
        self.open
            .clone()
            .acquire_owned()
            .await
            .map(Place)
            .map_err(|_| DomainError::Internal("the hashing queue is closed".into()))
    }

    /// Runs `f` on the password workers in an open place of the queue (refused when full).
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let _place = self.enter()?;
        off_runtime(f).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// One worker busy with a held job; untrusted jobs queued before a trusted one: the trusted
    /// job runs first when the worker frees, then the untrusted ones in their order.
    #[tokio::test]
    async fn trusted_jobs_overtake_queued_untrusted_ones() {
        let w = Workers::start(1, "test-lanes");
        let release = hold(&w);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut answers = Vec::new();
        let jobs = [
            (Lane::Normal, "n1"),
            (Lane::Normal, "n2"),
            (Lane::Trusted, "t1"),
            (Lane::Normal, "n3"),
            (Lane::Trusted, "t2"),
        ];
        for (lane, name) in jobs {
            let (w2, order) = (w.clone(), order.clone());
            answers.push(tokio::spawn(async move {
                w2.run(lane, move || order.lock().unwrap().push(name)).await
            }));
            // Each job is queued before the next is sent.
            while queued(&w) < answers.len() {
                tokio::task::yield_now().await;
            }
        }
        release.send(()).unwrap();
        for a in answers {
            a.await.unwrap().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["t1", "t2", "n1", "n2", "n3"]);
    }

    /// Occupies `w`'s one thread with a job that runs until the answer is sent.
    fn hold(w: &Workers) -> mpsc::Sender<()> {
        let (release, held) = mpsc::channel::<()>();
        let (started, running) = mpsc::channel::<()>();
        w.submit(
            Lane::Normal,
            Box::new(move || {
                started.send(()).unwrap();
                held.recv().unwrap();
            }),
        )
        .unwrap();
        running.recv().unwrap();
        release
    }

    fn queued(w: &Workers) -> usize {
        let l = w.lanes.lock().unwrap();
        l.trusted.len() + l.normal.len()
    }

    /// Differential check against a reference: for random sequences of submissions while the
    /// one worker is held, the run order is all trusted in order, then all normal in order.
    #[tokio::test]
    async fn run_order_matches_the_two_lane_reference() {
        for seed in 0u64..20 {
            let w = Workers::start(1, "test-lanes-prop");
            let release = hold(&w);
            let order = Arc::new(Mutex::new(Vec::new()));
            let mut expected = (Vec::new(), Vec::new());
            let mut answers = Vec::new();
            let mut x = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            for i in 0..(5 + seed as usize % 7) {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                let lane = if x >> 63 == 1 {
                    Lane::Trusted
                } else {
                    Lane::Normal
                };
                match lane {
                    Lane::Trusted => expected.0.push(i),
                    Lane::Normal => expected.1.push(i),
                }
                let (w2, order) = (w.clone(), order.clone());
                answers.push(tokio::spawn(async move {
                    w2.run(lane, move || order.lock().unwrap().push(i)).await
                }));
                while queued(&w) < answers.len() {
                    tokio::task::yield_now().await;
                }
            }
            release.send(()).unwrap();
            for a in answers {
                a.await.unwrap().unwrap();
            }
            let reference: Vec<usize> = expected.0.into_iter().chain(expected.1).collect();
            assert_eq!(*order.lock().unwrap(), reference, "seed {seed}");
        }
    }

    /// The workers run below the rest of the process (Linux): a job sees the workers' nice value
    /// on its thread, while the thread that queued it keeps its own.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn workers_yield_to_the_rest_of_the_process() {
        let caller = nice_of_this_thread();
        let w = Workers::start(2, "test-nice");
        for _ in 0..4 {
            let worker = w.run(Lane::Normal, nice_of_this_thread).await.unwrap();
            assert_eq!(worker, caller.max(WORKER_NICE));
        }
        assert_eq!(
            nice_of_this_thread(),
            caller,
            "the caller's priority is untouched"
        );
        let off = off_runtime(nice_of_this_thread).await.unwrap();
        assert_eq!(
            off,
            caller.max(WORKER_NICE),
            "the process's own workers too"
        );
    }

    #[test]
    fn reserved_places_are_only_for_trusted_sign_ins() {
        let q = HashQueue::new(1, 2);
        let _open = q.enter().unwrap();
        assert!(matches!(q.enter(), Err(DomainError::Unavailable { .. })));
        let _t1 = q.enter_trusted().unwrap();
        let _t2 = q.enter_trusted().unwrap();
        assert!(matches!(
            q.enter_trusted(),
            Err(DomainError::Unavailable { .. })
        ));
        drop(_open);
        let _t3 = q
            .enter_trusted()
            .expect("an open place when reserved are taken");
        assert!(matches!(q.enter(), Err(DomainError::Unavailable { .. })));
    }
}
