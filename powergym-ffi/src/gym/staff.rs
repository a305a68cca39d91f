//! Staff use cases: the first admin, sign-in, accounts, passwords, roles.

use std::sync::Arc;

use powergym_core as core;
use powergym_core::Role;

use crate::records::{Actor, Staff};
use crate::{Gym, Result};

#[uniffi::export(async_runtime = "tokio")]
impl Gym {
    /// Creates the first admin of an empty installation.
    pub async fn bootstrap_admin(&self, username: String, password: String) -> Result<Staff> {
        Ok(self.0.bootstrap_admin(&username, &password).await?.into())
    }

    /// Signs a staff member in; wrong password, unknown user and disabled account are
    /// refused alike. The actor's `profile()` is the account as it was at sign-in.
    pub async fn authenticate(&self, username: String, password: String) -> Result<Arc<Actor>> {
        let (actor, staff) = self.0.authenticate(&username, &password).await?;
        Ok(Arc::new(Actor {
            actor,
            profile: Some(staff.into()),
        }))
    }

    /// An actor for a staff member the host application has already authenticated.
    pub async fn acting_as(&self, username: String) -> Result<Arc<Actor>> {
        Ok(Arc::new(Actor {
            actor: self.0.acting_as(&username).await?,
            profile: None,
        }))
    }

    /// Creates a staff account (admins only).
    #[uniffi::method(default(email = None, full_name = None))]
    pub async fn create_staff(
        &self,
        actor: Arc<Actor>,
        username: String,
        password: String,
        role: Role,
        email: Option<String>,
        full_name: Option<String>,
    ) -> Result<Staff> {
        let input = core::StaffInput {
            username,
            password,
            role,
            email,
            full_name,
        };
        Ok(self.0.create_staff(&actor.actor, input).await?.into())
    }

    /// Changes the acting staff member's own password, given the current one.
    pub async fn change_own_password(
        &self,
        actor: Arc<Actor>,
        current: String,
        new: String,
    ) -> Result<()> {
        Ok(self
            .0
            .change_own_password(&actor.actor, &current, &new)
            .await?)
    }

    /// Sets another staff member's password (admins only).
    pub async fn reset_password(
        &self,
        actor: Arc<Actor>,
        username: String,
        new: String,
    ) -> Result<()> {
        Ok(self.0.reset_password(&actor.actor, &username, &new).await?)
    }

    /// Changes a staff member's role (admins only); the last admin cannot be demoted.
    pub async fn set_staff_role(
        &self,
        actor: Arc<Actor>,
        username: String,
        role: Role,
    ) -> Result<Staff> {
        Ok(self
            .0
            .set_staff_role(&actor.actor, &username, role)
            .await?
            .into())
    }

    /// Disables (or re-enables) a staff account (admins only); the last admin cannot be
    /// disabled.
    pub async fn set_staff_disabled(
        &self,
        actor: Arc<Actor>,
        username: String,
        disabled: bool,
    ) -> Result<Staff> {
        Ok(self
            .0
            .set_staff_disabled(&actor.actor, &username, disabled)
            .await?
            .into())
    }

    /// Removes a staff account (admins only); not one's own, not the last admin.
    pub async fn remove_staff(&self, actor: Arc<Actor>, username: String) -> Result<()> {
        Ok(self.0.remove_staff(&actor.actor, &username).await?)
    }

    /// Every staff account (admins only).
    pub async fn list_staff(&self, actor: Arc<Actor>) -> Result<Vec<Staff>> {
        let staff = self.0.list_staff(&actor.actor).await?;
        Ok(staff.into_iter().map(Into::into).collect())
    }
}
