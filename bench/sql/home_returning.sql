SELECT count(*) FROM audit_logs WHERE entity_type = 'user' AND entity_id = :uid::uuid AND action IN ('sign_in', 'password_reset');
