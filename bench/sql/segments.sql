SELECT id, name FROM segments WHERE status = 'active' ORDER BY lower(name);
