//! Translation of sqlx/PostgreSQL failures into [`Error`] kinds.
//!
//! Every constraint in the schema is named, and the names map to kinds here. Only the
//! SQLSTATE, the constraint name and the server's primary message are kept: the DETAIL
//! line repeats the row's values (names, document numbers) and is never passed on.

use sqlx::error::DatabaseError;

use crate::error::Error;

/// What a named constraint means when a write violates it.
fn constraint_error(constraint: &str) -> Option<Error> {
    let already = |entity, field| Error::AlreadyExists { entity, field };
    let invalid = |field, reason: &str| Error::validation(field, reason);
    let missing = |entity| Error::NotFound { entity };
    Some(match constraint {
        "idx_clients_dni" => already("client", "document_number"),
        "idx_users_username" => already("staff member", "username"),
        "idx_users_email" => already("staff member", "email"),
        "plans_slug_key" => already("plan", "slug"),
        "payments_idempotency_key_key" => already("payment", "idempotency_key"),
        "inventory_movements_idempotency_key_key" => already("sale", "idempotency_key"),
        "attendances_idempotency_key_key" | "access_denials_idempotency_key_key" => {
            already("check-in", "idempotency_key")
        }
        "sign_in_throttles_failures_check" => invalid("failures", "must not be negative"),
        "rewards_subscription_id_key" => already("reward", "subscription_id"),
        "rewards_applied_subscription_id_key" => Error::Conflict {
            reason: "the subscription already received a reward discount".into(),
        },
        "biometrics_one_active_per_client" => Error::Conflict {
            reason: "the client's face template changed concurrently; try again".into(),
        },
        "biometric_consents_one_active_per_client" => already("biometric consent", "client_id"),
        "biometrics_consent_required" => Error::ConsentRequired { guardian: false },
        "biometric_consents_guardian_required" => Error::ConsentRequired { guardian: true },
        "biometric_consents_purpose_check" => invalid("purpose", "must not be blank"),
        "biometric_consents_guardian_check" => invalid(
            "guardian",
            "give the guardian's name, document type and number together",
        ),
        "biometric_consents_withdrawal_check" => {
            invalid("withdrawn_at", "must not be before the consent was given")
        }
        "attendances_one_per_day" => {
            Error::AccessDenied(crate::error::DenialReason::AlreadyCheckedIn)
        }
        "subscriptions_no_overlap" => Error::Conflict {
            reason: "the client already has a subscription covering part of that period".into(),
        },
        "check_product_quantity_positive" => Error::Conflict {
            reason: "the stock would fall below zero".into(),
        },
        "inventory_movements_product_active" => invalid("product_id", "the product is inactive"),
        "inventory_movements_immutable" => Error::Conflict {
            reason: "inventory movements cannot be changed; record a new movement".into(),
        },
        "clients_dni_number_check" => invalid("document_number", "must not be blank"),
        "clients_first_name_check" => invalid("first_name", "must not be blank"),
        "clients_last_name_check" => invalid("last_name", "must not be blank"),
        "clients_phone_check" => invalid("phone", "must not be blank"),
        "users_username_check" => invalid(
            "username",
            "must be 3 to 50 lowercase letters, digits, '.', '_' or '-'",
        ),
        "plans_price_check" | "check_product_price_positive" | "subscriptions_list_price_check" => {
            invalid("price", "must not be negative")
        }
        "plans_duration_count_check" => invalid("duration_count", "must be greater than zero"),
        "payments_amount_check" => invalid("amount", "must be greater than zero"),
        "subscriptions_dates_check" => invalid("end_date", "must not be before the start date"),
        "subscriptions_discount_check" | "rewards_discount_check" => invalid(
            "discount_percentage",
            "must be greater than 0 and at most 100",
        ),
        "check_product_min_max_stock" => invalid("max_stock", "must not be below min_stock"),
        "check_movement_quantity" => {
            invalid("quantity", "entries must be positive and exits negative")
        }
        "biometrics_client_id_fkey"
        | "biometric_consents_client_id_fkey"
        | "access_denials_client_id_fkey"
        | "subscriptions_client_id_fkey"
        | "attendances_client_id_fkey"
        | "rewards_client_id_fkey" => missing("client"),
        "subscriptions_plan_id_fkey" => missing("plan"),
        "payments_subscription_id_fkey"
        | "rewards_subscription_id_fkey"
        | "attendances_subscription_id_fkey"
        | "rewards_applied_subscription_id_fkey" => missing("subscription"),
        "inventory_movements_product_id_fkey" => missing("product"),
        "biometrics_consent_id_fkey" => missing("biometric consent"),
        "payments_within_final_price" => Error::Conflict {
            reason: "the payments would exceed the subscription's final price".into(),
        },
        "plans_name_check" | "products_name_check" => invalid("name", "must not be blank"),
        "products_unit_type_check" => invalid("unit_type", "must not be blank"),
        "products_capacity_value_check" => invalid("capacity_value", "must be greater than zero"),
        "products_min_stock_check" => invalid("min_stock", "must not be negative"),
        "inventory_movements_unit_price_check" => invalid("unit_price", "must not be negative"),
        "subscriptions_final_price_check" => {
            invalid("final_price", "must be between zero and the list price")
        }
        "subscriptions_canceled_check" => invalid(
            "cancellation_date",
            "is set exactly when the subscription is canceled",
        ),
        "rewards_attendance_count_check" => invalid("attendance_count", "must not be negative"),
        "rewards_expiry_check" => invalid("expires_on", "must not be before the eligible date"),
        "rewards_applied_check" => {
            invalid("applied_at", "is set exactly when the reward is applied")
        }
        "access_denials_reason_check" => invalid("reason", "is not a known denial reason"),
        "biometrics_face_embedding_check" => {
            invalid("embedding", "a face template needs an embedding")
        }
        "users_hashed_password_check" => invalid("password", "must not be empty"),
        name if name.ends_with("_pkey") => already("record", "id"),
        name if name.ends_with("_meta_info_check") => invalid("meta_info", "must be a JSON object"),
        name if name.ends_with("_currency_check") => invalid(
            "currency",
            "must be a three-letter ISO 4217 code such as COP",
        ),
        name if name.ends_with("_by_fkey") || name == "inventory_movements_responsible_fkey" => {
            missing("staff member")
        }
        _ => return None,
    })
}

/// Maps any sqlx error to the library's error kinds.
pub(crate) fn map(err: sqlx::Error) -> Error {
    match err {
        sqlx::Error::RowNotFound => Error::NotFound { entity: "record" },
        sqlx::Error::Database(db) => map_database(db.as_ref()),
        sqlx::Error::Configuration(e) => Error::InvalidDatabaseUrl {
            reason: e.to_string(),
        },
        sqlx::Error::PoolTimedOut => Error::ConnectionFailed {
            reason: "no connection became available in time: the server may be down or \
                     overloaded, or the pool too small for the load"
                .into(),
        },
        sqlx::Error::PoolClosed => Error::ConnectionFailed {
            reason: "the connection pool was closed".into(),
        },
        // A failed TLS handshake reaches us as an I/O error of the encrypted stream.
        sqlx::Error::Io(e) if is_tls_failure(&e) => Error::ConnectionFailed {
            reason: format!(
                "TLS failed: {e}: check sslmode, and that sslrootcert names the authority that \
                 signed the server's certificate (and, for verify-full, that the host name \
                 is the certificate's)"
            ),
        },
        sqlx::Error::Io(e) => Error::ConnectionFailed {
            reason: format!(
                "{e}: check that PostgreSQL is running and the host and port are right"
            ),
        },
        sqlx::Error::Tls(e) => Error::ConnectionFailed {
            reason: format!("TLS failed: {e}"),
        },
        other => Error::Database {
            code: None,
            message: other.to_string(),
        },
    }
}

fn is_tls_failure(e: &std::io::Error) -> bool {
    let text = e.to_string().to_ascii_lowercase();
    ["certificate", "tls", "handshake"]
        .iter()
        .any(|w| text.contains(w))
}

fn map_database(db: &dyn DatabaseError) -> Error {
    let code = db.code().map(|c| c.into_owned());
    if let Some(err) = db.constraint().and_then(constraint_error) {
        return err;
    }
    match code.as_deref() {
        Some("28P01") | Some("28000") => Error::ConnectionFailed {
            reason: "the server refused the user name or password".into(),
        },
        Some("3D000") => Error::ConnectionFailed {
            reason: "the database named in the URL does not exist; create it first".into(),
        },
        Some("57P01") | Some("57P02") | Some("57P03") | Some("08006") | Some("08001") => {
            Error::ConnectionFailed {
                reason: "the server is shutting down or not accepting connections".into(),
            }
        }
        // Class 53: the server's own resources, the guide's "No space left on device" and
        // "too many connections" among them. Each says what an operator does about it.
        Some("53100") => Error::ResourceExhausted {
            resource: "disk space",
            hint: "free space on the server's data volume (old backups, logs), then run \
                   `powergym maintain` to reclaim dead rows; check usage with `df -h`"
                .into(),
        },
        Some("53300") => Error::ResourceExhausted {
            resource: "connections",
            hint: "every connection slot is taken: lower max_connections in the programs \
                   that share this server, close idle ones (`powergym health` lists them), \
                   or raise max_connections in postgresql.conf and restart"
                .into(),
        },
        Some("53200") => Error::ResourceExhausted {
            resource: "memory",
            hint: "the server could not allocate memory: lower work_mem or \
                   maintenance_work_mem, or give the server more memory"
                .into(),
        },
        Some(c) if c.starts_with("53") => Error::ResourceExhausted {
            resource: "a configured limit",
            hint: "a server limit was reached (for example max_locks_per_transaction); \
                   raise it in postgresql.conf"
                .into(),
        },
        // The bounded waits of ConnectOptions (PoolSettings): lock, statement, idle
        // transaction.
        Some("55P03") => Error::Timeout {
            reason: "another transaction held a lock this call needed for longer than the lock \
                     timeout; nothing was written, try again"
                .into(),
        },
        Some("57014") => Error::Timeout {
            reason: "the statement ran past the statement timeout (or an operator canceled \
                     it); nothing was written"
                .into(),
        },
        Some("25P03") => Error::Timeout {
            reason: "the transaction sat idle past the idle-in-transaction timeout and the \
                     server closed it"
                .into(),
        },
        Some("23505") => Error::AlreadyExists {
            entity: "record",
            field: "unique key",
        },
        Some("23P01") => Error::Conflict {
            reason: "the write overlaps an existing record".into(),
        },
        _ => Error::Database {
            code,
            message: db.message().to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every constraint the migrations name (tables' `constraint x` clauses and the
    /// triggers' `constraint = 'x'`) maps to an error kind, so a new one cannot slip
    /// through as a bare database error.
    #[test]
    fn every_named_constraint_maps_to_a_kind() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if !path.to_string_lossy().ends_with(".up.sql") {
                continue;
            }
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                let code = line.split("--").next().unwrap_or("").trim();
                if let Some(rest) = code.strip_prefix("constraint ") {
                    names.push(rest.split_whitespace().next().unwrap().to_owned());
                } else if let Some(i) = code.find("constraint = '") {
                    let rest = &code[i + "constraint = '".len()..];
                    names.push(rest.split('\'').next().unwrap().to_owned());
                } else if let Some(i) = code.find("add constraint ") {
                    let rest = &code[i + "add constraint ".len()..];
                    names.push(rest.split_whitespace().next().unwrap().to_owned());
                }
            }
        }
        assert!(names.len() > 80, "found only {} constraints", names.len());
        let unmapped: Vec<&String> = names
            .iter()
            .filter(|n| constraint_error(n).is_none())
            .collect();
        assert!(unmapped.is_empty(), "unmapped constraints: {unmapped:?}");
        assert!(constraint_error("something_else").is_none());
    }
}
