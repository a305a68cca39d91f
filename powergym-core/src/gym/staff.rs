//! Staff use cases: the first admin, accounts, sign-in, passwords, roles.

use crate::auth;
use crate::domain::staff::{
    AccountChange, Action, Actor, Role, Staff, Username, check_password_policy, guard_last_admin,
};
use crate::error::{Error, Result};
use crate::gym::Gym;
use crate::store::NewStaff;

/// A new staff account as typed by an admin.
#[derive(Clone, PartialEq, Eq)]
pub struct StaffInput {
    /// Login name.
    pub username: String,
    /// Initial password (8–128 characters).
    pub password: String,
    /// Role.
    pub role: Role,
    /// E-mail address, optional.
    pub email: Option<String>,
    /// Display name, optional.
    pub full_name: Option<String>,
}

impl std::fmt::Debug for StaffInput {
    // Never the password; the rest identifies staff, not members, but stays terse.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffInput")
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

async fn hash(password: String) -> Result<String> {
    check_password_policy(&password)?;
    // argon2id with 64 MiB takes tens of milliseconds of CPU: off the async workers.
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| Error::validation("password", "hashing was interrupted"))?
}

async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

fn new_staff(input: StaffInput, password_hash: String) -> Result<NewStaff> {
    let email = crate::domain::client::Email::parse_optional(input.email.as_deref())?;
    let full_name = input
        .full_name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if full_name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(Error::validation(
            "full_name",
            "must be at most 200 characters",
        ));
    }
    Ok(NewStaff {
        username: Username::parse(&input.username)?.as_str().to_owned(),
        email: email.map(|e| e.as_str().to_owned()),
        full_name,
        role: input.role,
        password_hash,
    })
}

impl Gym {
    /// Creates the first admin of an empty installation. Refused (`Conflict`) once any
    /// staff account exists; later accounts are created by an admin.
    pub async fn bootstrap_admin(&self, username: &str, password: &str) -> Result<Staff> {
        let username = Username::parse(username)?.as_str().to_owned();
        let password_hash = hash(password.to_owned()).await?;
        let mut tx = self.store.begin().await?;
        tx.lock_staff_directory().await?;
        if tx.count_staff().await? > 0 {
            return Err(Error::Conflict {
                reason: "staff accounts exist already; an admin creates new ones".into(),
            });
        }
        let admin = NewStaff {
            username,
            email: None,
            full_name: None,
            role: Role::Admin,
            password_hash,
        };
        let staff = tx.insert_staff(&admin).await?;
        tx.commit().await?;
        Ok(staff)
    }

    /// Creates a staff account (admins only).
    pub async fn create_staff(&self, actor: &Actor, input: StaffInput) -> Result<Staff> {
        Username::parse(&input.username)?;
        let password_hash = hash(input.password.clone()).await?;
        let new = new_staff(input, password_hash)?;
        let mut tx = self.begin_as(actor, Action::ManageStaff).await?;
        let staff = tx.insert_staff(&new).await?;
        tx.commit().await?;
        Ok(staff)
    }

    /// Signs a staff member in. A wrong password, an unknown username and a disabled
    /// account are refused alike (`PermissionDenied`), and take the same time.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<(Actor, Staff)> {
        let refused = || Error::PermissionDenied {
            action: "sign_in".into(),
        };
        let name = Username::parse(username)
            .map(|u| u.as_str().to_owned())
            .unwrap_or_default();
        let mut tx = self.store.begin().await?;
        let found = tx.staff_credentials(&name).await?;
        drop(tx);
        let (staff, stored) = match found {
            Some((staff, hash)) => (Some(staff), hash),
            None => (None, auth::DUMMY_HASH.to_owned()),
        };
        let matches = verify(password.to_owned(), stored).await;
        match staff {
            Some(staff) if matches && !staff.disabled => {
                Ok((Actor::new(staff.username.clone()), staff))
            }
            _ => Err(refused()),
        }
    }

    /// An actor for a staff member the host application has already authenticated
    /// (its own sessions or tokens). Refused for unknown or disabled accounts.
    pub async fn acting_as(&self, username: &str) -> Result<Actor> {
        let actor = Actor::new(Username::parse(username)?.as_str().to_owned());
        let tx = self.begin_as(&actor, Action::ManageOwnProfile).await?;
        drop(tx);
        Ok(actor)
    }

    /// Changes the actor's own password after checking the current one.
    pub async fn change_own_password(&self, actor: &Actor, current: &str, new: &str) -> Result<()> {
        let new_hash = hash(new.to_owned()).await?;
        self.authenticate(actor.username(), current).await?;
        let mut tx = self.begin_as(actor, Action::ManageOwnProfile).await?;
        tx.set_staff_password(actor.username(), &new_hash).await?;
        tx.commit().await
    }

    /// Sets another account's password (admins only).
    pub async fn reset_password(&self, actor: &Actor, username: &str, new: &str) -> Result<()> {
        let new_hash = hash(new.to_owned()).await?;
        let mut tx = self.begin_as(actor, Action::ManageStaff).await?;
        tx.set_staff_password(username, &new_hash).await?;
        tx.commit().await
    }

    /// Changes an account's role (admins only); the last active admin cannot be demoted.
    pub async fn set_staff_role(&self, actor: &Actor, username: &str, role: Role) -> Result<Staff> {
        let mut tx = self.begin_as(actor, Action::ManageStaff).await?;
        let admins = tx.lock_active_admins().await?;
        let target = tx.lock_staff(username).await?;
        if role == Role::Employee {
            guard_last_admin(
                target.role,
                target.disabled,
                AccountChange::DemoteToEmployee,
                admins,
            )?;
        }
        let staff = tx.set_staff_role(username, role).await?;
        tx.commit().await?;
        Ok(staff)
    }

    /// Disables or re-enables an account (admins only); the last active admin cannot be
    /// disabled.
    pub async fn set_staff_disabled(
        &self,
        actor: &Actor,
        username: &str,
        disabled: bool,
    ) -> Result<Staff> {
        let mut tx = self.begin_as(actor, Action::ManageStaff).await?;
        let admins = tx.lock_active_admins().await?;
        let target = tx.lock_staff(username).await?;
        if disabled {
            guard_last_admin(target.role, target.disabled, AccountChange::Disable, admins)?;
        }
        let staff = tx.set_staff_disabled(username, disabled).await?;
        tx.commit().await?;
        Ok(staff)
    }

    /// Deletes an account (admins only; not one's own; never the last active admin).
    /// What the account recorded stays, attributed to nobody.
    pub async fn remove_staff(&self, actor: &Actor, username: &str) -> Result<()> {
        if actor.username() == username {
            return Err(Error::Conflict {
                reason: "staff cannot remove their own account".into(),
            });
        }
        let mut tx = self.begin_as(actor, Action::ManageStaff).await?;
        let admins = tx.lock_active_admins().await?;
        let target = tx.lock_staff(username).await?;
        guard_last_admin(target.role, target.disabled, AccountChange::Remove, admins)?;
        tx.delete_staff(username).await?;
        tx.commit().await
    }

    /// Every staff account (admins only).
    pub async fn list_staff(&self, actor: &Actor) -> Result<Vec<Staff>> {
        let mut tx = self.begin_as(actor, Action::ManageStaff).await?;
        tx.list_staff().await
    }
}
