-- PowerGym schema, step 15: the face templates changed since a search cache's mark, as
-- one function the desk's statements call.
--
-- Written inline, `change_seq > $n` makes the planner price the generic plan of the
-- whole face check-in statement as if a third of the gallery had changed, so it plans
-- that statement afresh at every call (about half a millisecond). Behind a function
-- the statement's generic plan is as cheap as a custom one, and the server keeps it
-- after five calls. STABLE: it reads the snapshot of the statement that calls it.

create function powergym_face_changes_since(p_mark bigint, out ids uuid[], out vectors bytea)
language plpgsql stable as $$
begin
    -- Ids in order, and their vectors in pgvector's binary form concatenated in the
    -- same order: one row whatever the number of changes.
    select array_agg(b.client_id order by b.client_id),
           string_agg(vector_send(b.embedding), ''::bytea order by b.client_id)
      into ids, vectors
      from biometrics b
     where b.change_seq > p_mark and b.is_active and b.type = 'FACE';
end;
$$;
