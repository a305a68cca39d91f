drop function powergym_face_embedding(uuid);
drop function powergym_payment_by_key(text);
drop function powergym_paid(uuid);
drop function powergym_attended_on(uuid, date);
drop function powergym_client_subscriptions(uuid);
