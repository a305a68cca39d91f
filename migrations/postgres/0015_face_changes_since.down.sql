drop function powergym_face_changes_since(bigint);
