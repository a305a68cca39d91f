//! What each named constraint of the schema means when a write violates it: one table
//! for both stores, whose schemas name their constraints alike (PostgreSQL reports the
//! name, SQLite's messages and triggers carry it), so a refused write is the same
//! [`Error`] kind whichever store refused it.

use crate::error::Error;

/// What a named constraint means when a write violates it.
pub(crate) fn constraint_error(constraint: &str) -> Option<Error> {
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
            Error::AccessDenied(crate::domain::access::DenialReason::AlreadyCheckedIn)
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
        // SQLite's schema states in a trigger what PostgreSQL's library only observes:
        // a receipt is never edited.
        "payments_immutable" => Error::Conflict {
            reason: "payments cannot be changed; record a new payment instead".into(),
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
