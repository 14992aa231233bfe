SELECT count(*) FROM (SELECT 1 FROM contacts k WHERE true AND k.status = :kstatus AND NOT k.is_duplicate AND k.is_active LIMIT :cap) t;
