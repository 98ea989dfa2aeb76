//! Many new users in one transaction (the CSV import's creations): each behind a savepoint, so
//! a refused one leaves nothing behind and the others are kept, with the same audit entry per
//! user as a single creation writes.

use super::batch::Savepoint;
use super::{Backend, commit_many};
use crate::domain::audit::{Actor, Change};
use crate::domain::changes::NewUser;
use crate::domain::clock::now_us;
use crate::domain::*;

impl Backend {
    /// Inserts `users` in order; the outcome of each.
    pub async fn insert_users(
        &self,
        tenant: &TenantId,
        users: &[NewUser],
        actor: &Actor,
    ) -> Result<Vec<Result<User>>> {
        let mut tx = self.write_tx().await?;
        let now = now_us();
        let mut outcomes = Vec::with_capacity(users.len());
        let mut changes = Vec::with_capacity(users.len());
        for u in users {
            let sp = Savepoint::start(&mut tx, "import_user").await?;
            let made = match Self::insert_user_tx(&mut tx, tenant, u, now).await {
                Ok(id) => Self::user_tx(&mut tx, tenant, &id).await,
                Err(e) => Err(e),
            };
            match made {
                Ok(user) => {
                    sp.release(&mut tx).await?;
                    changes.push(Change::new("user.create", "user", &user.id).after(&user));
                    outcomes.push(Ok(user));
                }
                Err(DomainError::Contention) => return Err(DomainError::Contention),
                Err(e) => {
                    sp.rollback(&mut tx).await?;
                    outcomes.push(Err(e));
                }
            }
        }
        commit_many(tx, tenant, actor, changes).await?;
        Ok(outcomes)
    }
}
