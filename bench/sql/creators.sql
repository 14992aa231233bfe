SELECT u.id, u.name FROM users u WHERE EXISTS (SELECT 1 FROM companies c WHERE c.created_by = u.id) ORDER BY lower(u.name);
