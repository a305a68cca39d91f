//! Staff accounts: sign-in, the first admin, and account administration.

use crate::errors::to_py;
use crate::types::args;
use crate::types::{Actor, Staff};
use powergym_core as core;

use_cases! {
    /// Creates the first admin of an empty installation.
    fn bootstrap_admin(
        gym,
        #[pyo3(from_py_with = args::username)] username: String,
        #[pyo3(from_py_with = args::password)] password: String,
    ) -> Staff {
        async move { gym.bootstrap_admin(&username, &password).await.map(Staff::from) }
    }

    /// Signs a staff member in; a wrong password, unknown user or disabled account
    /// raise PermissionDeniedError alike.
    fn authenticate(
        gym,
        #[pyo3(from_py_with = args::username)] username: String,
        #[pyo3(from_py_with = args::password)] password: String,
    ) -> Actor {
        async move {
            gym.authenticate(&username, &password)
                .await
                .map(|(actor, _)| Actor(actor))
        }
    }

    /// An actor for a staff member the host application has already authenticated.
    fn acting_as(gym, #[pyo3(from_py_with = args::username)] username: String) -> Actor {
        async move { gym.acting_as(&username).await.map(Actor) }
    }

    /// Creates a staff account (admins only).
    #[pyo3(signature = (actor, *, username, password, role, email = None, full_name = None))]
    fn create_staff(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::username)] username: String,
        #[pyo3(from_py_with = args::password)] password: String,
        #[pyo3(from_py_with = args::role)] role: String,
        #[pyo3(from_py_with = args::email)] email: Option<String>,
        #[pyo3(from_py_with = args::full_name)] full_name: Option<String>,
    ) -> Staff {
        let input = core::StaffInput {
            username,
            password,
            role: role.parse().map_err(to_py)?,
            email,
            full_name,
        };
        let actor = actor.0.clone();
        async move { gym.create_staff(&actor, input).await.map(Staff::from) }
    }

    /// Changes the acting staff member's own password, after checking the current one.
    fn change_own_password(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::current_password)] current_password: String,
        #[pyo3(from_py_with = args::new_password)] new_password: String,
    ) -> () {
        let actor = actor.0.clone();
        async move {
            gym.change_own_password(&actor, &current_password, &new_password)
                .await
        }
    }

    /// Sets another account's password (admins only).
    fn reset_password(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::username)] username: String,
        #[pyo3(from_py_with = args::new_password)] new_password: String,
    ) -> () {
        let actor = actor.0.clone();
        async move { gym.reset_password(&actor, &username, &new_password).await }
    }

    /// Changes an account's role (admins only; the last admin cannot be demoted).
    fn set_staff_role(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::username)] username: String,
        #[pyo3(from_py_with = args::role)] role: String,
    ) -> Staff {
        let role: core::Role = role.parse().map_err(to_py)?;
        let actor = actor.0.clone();
        async move { gym.set_staff_role(&actor, &username, role).await.map(Staff::from) }
    }

    /// Disables or re-enables an account (admins only; never the last admin).
    fn set_staff_disabled(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::username)] username: String,
        disabled: bool,
    ) -> Staff {
        let actor = actor.0.clone();
        async move {
            gym.set_staff_disabled(&actor, &username, disabled)
                .await
                .map(Staff::from)
        }
    }

    /// Deletes an account (admins only; never the last admin, nor oneself).
    fn remove_staff(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::username)] username: String,
    ) -> () {
        let actor = actor.0.clone();
        async move { gym.remove_staff(&actor, &username).await }
    }

    /// Every staff account, by username (admins only).
    fn list_staff(gym, actor: &Actor) -> Vec<Staff> {
        let actor = actor.0.clone();
        async move {
            let all = gym.list_staff(&actor).await?;
            Ok(all.into_iter().map(Staff::from).collect())
        }
    }
}
