SELECT count(*) FROM (SELECT 1 FROM companies c WHERE true AND c.status = :cstatus AND NOT c.is_duplicate AND c.is_active LIMIT :cap) t;
