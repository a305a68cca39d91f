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

/// Hashings and verifications running at once: each takes 64 MiB, so a flood of
/// sign-ins with many different names waits here instead of exhausting memory.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

async fn hash(password: String) -> Result<String> {
    check_password_policy(&password)?;
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|_| Error::validation("password", "hashing was interrupted"))?;
    // argon2id with 64 MiB takes tens of milliseconds of CPU: off the async workers.
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| Error::validation("password", "hashing was interrupted"))?
}

async fn check(password: String, hash: String) -> auth::PasswordCheck {
    let Ok(_permit) = HASHING.acquire().await else {
        return auth::PasswordCheck::Wrong;
    };
    // Verifying (and rehashing) is as costly as hashing: off the async workers too.
    tokio::task::spawn_blocking(move || auth::check_password(&password, &hash))
        .await
        .unwrap_or(auth::PasswordCheck::Wrong)
}

fn new_staff(input: StaffInput, password_hash: String) -> Result<NewStaff> {
    let email = crate::domain::client::Email::parse_optional(input.email.as_deref())?;
    let full_name = crate::domain::staff::parse_full_name(input.full_name.as_deref())?;
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
        self.bounded(async move {
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
        })
        .await
    }

    /// Creates a staff account (admins only).
    pub async fn create_staff(&self, actor: &Actor, input: StaffInput) -> Result<Staff> {
        self.bounded(async move {
            Username::parse(&input.username)?;
            let password_hash = hash(input.password.clone()).await?;
            let new = new_staff(input, password_hash)?;
            let mut tx = self.begin_as(actor, Action::ManageStaff).await?;
            let staff = tx.insert_staff(&new).await?;
            tx.commit().await?;
            Ok(staff)
        })
        .await
    }

    /// Signs a staff member in. A wrong password, an unknown username and a disabled
    /// account are refused alike (`PermissionDenied`), and take the same time.
    ///
    /// Failures are throttled per account name, whether or not an account has it: after
    /// five in a row the name is locked for a second, doubling with each further failure
    /// up to fifteen minutes, and while it is locked even the right password is refused
    /// with the same error, at once and unchecked (an unknown name exactly alike). A
    /// success clears the count, and a password stored with weaker hashing parameters
    /// than today's is rehashed with them in the same transaction.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<(Actor, Staff)> {
        self.bounded(async move {
            let refused = || Error::PermissionDenied {
                action: "sign_in".into(),
            };
            // Names that cannot be accounts share one throttle record: none of them can ever
            // sign in, and text that is not a valid name is never stored.
            let name = Username::parse(username)
                .map(|u| u.as_str().to_owned())
                .unwrap_or_default();
            let (now, _) = self.now();
            let mut tx = self.store.begin().await?;
            // The throttle row is locked before the password is checked, so concurrent guesses
            // at one name are checked one at a time and each failure is counted before the
            // next guess is judged.
            let throttle = auth::current(tx.lock_sign_in_throttle(&name).await?, now);
            if auth::is_locked(&throttle, now) {
                tx.save_sign_in_throttle(&name, &auth::after_failure(throttle, now))
                    .await?;
                tx.commit().await?;
                return Err(refused());
            }
            let found = tx.staff_credentials(&name).await?;
            let (staff, stored) = match found {
                Some((staff, hash)) => (Some(staff), hash),
                None => (None, auth::DUMMY_HASH.to_owned()),
            };
            match (staff, check(password.to_owned(), stored.clone()).await) {
                (Some(staff), auth::PasswordCheck::Right { rehashed }) if !staff.disabled => {
                    if let Some(new_hash) = rehashed {
                        tx.upgrade_staff_password_hash(&name, &stored, &new_hash)
                            .await?;
                    }
                    tx.clear_sign_in_throttle(&name).await?;
                    tx.commit().await?;
                    Ok((Actor::new(staff.username.clone()), staff))
                }
                _ => {
                    tx.save_sign_in_throttle(&name, &auth::after_failure(throttle, now))
                        .await?;
                    tx.prune_sign_in_throttles(now - auth::FAILURE_MEMORY)
                        .await?;
                    tx.commit().await?;
                    Err(refused())
                }
            }
        })
        .await
    }

    /// An actor for a staff member the host application has already authenticated
    /// (its own sessions or tokens). Refused for unknown or disabled accounts.
    pub async fn acting_as(&self, username: &str) -> Result<Actor> {
        self.bounded(async move {
            let actor = Actor::new(Username::parse(username)?.as_str().to_owned());
            let tx = self.begin_read_as(&actor, Action::ManageOwnProfile).await?;
            drop(tx);
            Ok(actor)
        })
        .await
    }

    /// Changes the actor's own password after checking the current one.
    pub async fn change_own_password(&self, actor: &Actor, current: &str, new: &str) -> Result<()> {
        self.bounded(async move {
            let new_hash = hash(new.to_owned()).await?;
            self.authenticate(actor.username(), current).await?;
            let mut tx = self.begin_as(actor, Action::ManageOwnProfile).await?;
            tx.set_staff_password(actor.username(), &new_hash).await?;
            tx.commit().await
        })
        .await
    }

    // The account-management calls below take the name as accounts are stored (trimmed,
    // lower-case): text that cannot be a username never reaches the database.

    /// Sets another account's password (admins only).
    pub async fn reset_password(&self, actor: &Actor, username: &str, new: &str) -> Result<()> {
        self.bounded(async move {
            let parsed = Username::parse(username)?;
            let username = parsed.as_str();
            let new_hash = hash(new.to_owned()).await?;
            let mut tx = self.begin_as(actor, Action::ManageStaff).await?;
            tx.set_staff_password(username, &new_hash).await?;
            tx.commit().await
        })
        .await
    }

    /// Changes an account's role (admins only); the last active admin cannot be demoted.
    pub async fn set_staff_role(&self, actor: &Actor, username: &str, role: Role) -> Result<Staff> {
        self.bounded(async move {
            let parsed = Username::parse(username)?;
            let username = parsed.as_str();
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
        })
        .await
    }

    /// Disables or re-enables an account (admins only); the last active admin cannot be
    /// disabled.
    pub async fn set_staff_disabled(
        &self,
        actor: &Actor,
        username: &str,
        disabled: bool,
    ) -> Result<Staff> {
        self.bounded(async move {
            let parsed = Username::parse(username)?;
            let username = parsed.as_str();
            let mut tx = self.begin_as(actor, Action::ManageStaff).await?;
            let admins = tx.lock_active_admins().await?;
            let target = tx.lock_staff(username).await?;
            if disabled {
                guard_last_admin(target.role, target.disabled, AccountChange::Disable, admins)?;
            }
            let staff = tx.set_staff_disabled(username, disabled).await?;
            tx.commit().await?;
            Ok(staff)
        })
        .await
    }

    /// Deletes an account (admins only; not one's own; never the last active admin).
    /// What the account recorded stays, attributed to nobody.
    pub async fn remove_staff(&self, actor: &Actor, username: &str) -> Result<()> {
        self.bounded(async move {
            let parsed = Username::parse(username)?;
            let username = parsed.as_str();
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
        })
        .await
    }

    /// Every staff account (admins only).
    pub async fn list_staff(&self, actor: &Actor) -> Result<Vec<Staff>> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ManageStaff).await?;
            tx.list_staff().await
        })
        .await
    }
}
