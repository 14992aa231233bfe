-- seeds/demo.sql — demo data for a new embedded database: users in every role, four
-- segments (one archived), offerings, 30 companies in every status, 40 contacts in every
-- status, assignments, a CSV upload with failed rows, collateral links, and the audit
-- rows that creating all of it would have written.
--
-- Run once by the server after the migrations, in one transaction, with the setting
-- spanner.demo_password_hash holding the Argon2id hash given to every demo user.
-- admin@example.com must already exist (the server creates it); it is the creator of
-- the things an Admin would set up. The whole seed is skipped when the database already
-- holds segments or companies, so running it again, or on a database in use, changes
-- nothing. Companies and websites are fictional (.example domains, RFC 2606).

do $seed$
declare
	pw          text := nullif(current_setting('spanner.demo_password_hash', true), '');
	t0          timestamptz := date_trunc('day', now()) - interval '60 days' + interval '9 hours';
	this_year   integer := extract(year from now())::integer;
	admin_id    uuid;
	owner_id    uuid;
	res_id      uuid;
	res2_id     uuid;
	approver_id uuid;
	sdr_id      uuid;
	mkt_id      uuid;
	former_id   uuid;
	batch       uuid;
	row3        uuid;
	row5        uuid;
begin
	if exists (select 1 from segments) or exists (select 1 from companies) then
		raise notice 'demo seed skipped: the database already holds data';
		return;
	end if;

	if pw is null then
		raise exception 'demo seed: spanner.demo_password_hash is not set'
			using hint = 'The server sets it (SET LOCAL) before running seeds/demo.sql.';
	end if;

	select id into admin_id from users where lower(email) = 'admin@example.com';
	if admin_id is null then
		raise exception 'demo seed: the user admin@example.com does not exist'
			using hint = 'The server creates the Admin before seeding the demo data.';
	end if;

	-- ------------------------------------------------------------ users and roles

	insert into users (email, name, password_hash, created_by, created_at, updated_at)
	select v.email, v.name, pw, admin_id, t0 + v.minutes * interval '1 minute',
	       t0 + v.minutes * interval '1 minute'
	from (values
		('owner@example.com',             'Sofia Lindberg', 10),
		('researcher@example.com',        'Ravi Patel',     12),
		('researcher2@example.com',       'Hannah Becker',  14),
		('approver@example.com',          'Marcus Okafor',  16),
		('sdr@example.com',               'Chloe Dubois',   18),
		('marketing@example.com',         'Tom Gallagher',  20),
		('former.researcher@example.com', 'Lena Fischer',   22)
	) as v (email, name, minutes)
	on conflict ((lower(email))) do nothing;

	select id into owner_id from users where lower(email) = 'owner@example.com';
	select id into res_id from users where lower(email) = 'researcher@example.com';
	select id into res2_id from users where lower(email) = 'researcher2@example.com';
	select id into approver_id from users where lower(email) = 'approver@example.com';
	select id into sdr_id from users where lower(email) = 'sdr@example.com';
	select id into mkt_id from users where lower(email) = 'marketing@example.com';
	select id into former_id from users where lower(email) = 'former.researcher@example.com';

	insert into user_roles (user_id, role_id, granted_by, created_at)
	select u.id, r.id, admin_id, u.created_at
	from (values
		('admin@example.com',             'Admin'),
		('owner@example.com',             'Segment Owner'),
		('researcher@example.com',        'Researcher'),
		('researcher2@example.com',       'Researcher'),
		('approver@example.com',          'Approver'),
		('sdr@example.com',               'SDR'),
		('marketing@example.com',         'Marketing'),
		('former.researcher@example.com', 'Researcher')
	) as v (email, role_name)
	join users u on lower(u.email) = v.email
	join roles r on r.name = v.role_name
	on conflict do nothing;

	-- A deactivated account, so the users page and the "deactivated" filter have one.
	update users set is_active = false, deactivated_at = t0 + interval '30 days'
	where id = former_id;

	-- ------------------------------------------------------------ segments and offerings

	insert into segments (name, description, created_by, created_at, updated_at)
	select v.name, v.description, u.id, t0 + v.days * interval '1 day',
	       t0 + v.days * interval '1 day'
	from (values
		('DACH Industrial Manufacturing',
		 'Mid-sized machine builders and component makers in Germany, Austria and Switzerland modernising their shop floor (200–2,000 employees).',
		 'admin@example.com', 1),
		('UK Financial Services',
		 'Challenger banks, building societies and specialist insurers in the UK facing new operational-resilience and reporting rules.',
		 'owner@example.com', 1),
		('US Regional Healthcare',
		 'Regional hospital networks and physician groups in the US Midwest and South consolidating patient data after mergers.',
		 'owner@example.com', 2),
		('Nordic Retail',
		 'Omnichannel retailers in Sweden, Norway and Finland. Campaign closed; kept for reference.',
		 'admin@example.com', 2)
	) as v (name, description, creator, days)
	join users u on lower(u.email) = v.creator;

	insert into offerings (name, description, status, created_by, created_at, updated_at)
	select v.name, v.description, v.status, u.id, t0 + interval '1 day',
	       t0 + interval '1 day'
	from (values
		('Predictive Maintenance Platform',
		 'Sensor analytics that forecast machine failures and plan maintenance windows.',
		 'active', 'admin@example.com'),
		('Industrial IoT Connectivity',
		 'Retrofit kits and a managed gateway that bring legacy machines onto one data network.',
		 'active', 'admin@example.com'),
		('Cloud Cost Optimisation',
		 'Assessment and tooling that cut cloud spend by right-sizing and commitment planning.',
		 'active', 'owner@example.com'),
		('Regulatory Reporting Automation',
		 'Automated data lineage and submission pipelines for regulatory returns.',
		 'active', 'owner@example.com'),
		('Patient Data Integration',
		 'HL7/FHIR integration hub that unifies records across EHR systems.',
		 'active', 'owner@example.com'),
		('Customer Data Platform',
		 'Unified customer profiles and audience building for omnichannel retail.',
		 'active', 'admin@example.com'),
		('Legacy ERP Migration',
		 'Discontinued service line: lift-and-shift of on-premise ERP systems.',
		 'inactive', 'admin@example.com')
	) as v (name, description, status, creator)
	join users u on lower(u.email) = v.creator;

	insert into segment_offerings (segment_id, offering_id, created_by, created_at)
	select s.id, o.id, s.created_by, s.created_at
	from (values
		('DACH Industrial Manufacturing', 'Predictive Maintenance Platform'),
		('DACH Industrial Manufacturing', 'Industrial IoT Connectivity'),
		('UK Financial Services',         'Cloud Cost Optimisation'),
		('UK Financial Services',         'Regulatory Reporting Automation'),
		('US Regional Healthcare',        'Patient Data Integration'),
		('US Regional Healthcare',        'Cloud Cost Optimisation'),
		('Nordic Retail',                 'Customer Data Platform')
	) as v (segment_name, offering_name)
	join segments s on s.name = v.segment_name
	join offerings o on o.name = v.offering_name;

	-- ------------------------------------------------------------ a CSV upload

	-- Three of its five rows were imported (the pending companies marked in_batch
	-- below); two failed and wait in the Error Correction module.
	insert into upload_batches (entity_type, file_name, file_size_bytes, headers, total_rows,
		processed_rows, valid_rows, invalid_rows, status, uploader_id, finished_at,
		created_at, updated_at)
	values ('company', 'dach-prospects-q3.csv', 612,
		array['Company Name', 'Segment Name', 'Company Website', 'City', 'Country/Region',
		      'Founded Year'],
		5, 5, 3, 2, 'completed', res2_id, t0 + interval '48 days 10 minutes',
		t0 + interval '48 days', t0 + interval '48 days 10 minutes')
	returning id into batch;

	insert into upload_rows (batch_id, row_number, row_values, created_at)
	values (batch, 3, array['Westphal Metallbau', 'DACH Industrial Manufacturing',
			'westphal metallbau', 'Kassel', 'Germany', '1650'],
		t0 + interval '48 days 1 minute')
	returning id into row3;
	insert into upload_rows (batch_id, row_number, row_values, created_at)
	values (batch, 5, array['Ortner Stahlbau GmbH', 'DACH Heavy Industry',
			'https://ortner-stahlbau.example', 'Innsbruck', 'Austria', '1988'],
		t0 + interval '48 days 1 minute')
	returning id into row5;

	insert into upload_errors (batch_id, upload_row_id, row_number, column_name, value,
		error_message, created_at)
	values
		(batch, row3, 3, 'Company Website', 'westphal metallbau', 'is not a valid URL',
		 t0 + interval '48 days 1 minute'),
		(batch, row3, 3, 'Founded Year', '1650',
		 format('must be a year between 1800 and %s', this_year),
		 t0 + interval '48 days 1 minute'),
		(batch, row5, 5, 'Segment Name', 'DACH Heavy Industry',
		 'no active segment has this name', t0 + interval '48 days 1 minute');

	-- ------------------------------------------------------------ companies

	-- Companies are inserted with their final status (the status triggers govern
	-- changes, not inserts); status_changed_* record the decision. Nordic Retail is
	-- archived only after its companies and contacts exist.
	insert into companies (name, website, phone, description, linkedin_url, industry,
		sub_industry, address_street, address_city, address_state, address_country,
		address_zip, founded_year, revenue_range, employee_size_range, segment_id, status,
		rejection_reason, status_changed_at, status_changed_by, batch_id, created_by,
		created_at, updated_at)
	select v.name, v.website, v.phone, v.description, v.linkedin_url, v.industry,
	       v.sub_industry, v.street, v.city, v.state, v.country, v.zip, v.founded,
	       v.revenue, v.employees, s.id, v.status, v.reason,
	       case v.status
	       when 'approved' then t0 + (v.days + 2) * interval '1 day'
	       when 'rejected' then t0 + (v.days + 1) * interval '1 day'
	       end,
	       case when v.status <> 'pending' then approver_id end,
	       case when v.in_batch then batch end,
	       u.id,
	       t0 + v.days * interval '1 day' + v.n * interval '7 minutes',
	       t0 + v.days * interval '1 day' + v.n * interval '7 minutes'
	from (values
		-- DACH Industrial Manufacturing
		(1, 'DACH Industrial Manufacturing', 'Brenner Feinmechanik GmbH',
		 'https://brenner-feinmechanik.example', '+49 711 5550 142',
		 'Family-owned maker of precision-turned parts for automotive and medical customers; two plants, heavy CNC investment since 2021.',
		 'https://www.linkedin.com/company/brenner-feinmechanik-example',
		 'Industrial Machinery', 'Precision Components', 'Industriestraße 14', 'Stuttgart',
		 'Baden-Württemberg', 'Germany', '70565', 1962, '€50M–€100M', '200–499',
		 'approved', null, 5, 'researcher@example.com', false),
		(2, 'DACH Industrial Manufacturing', 'Aldinger Antriebstechnik AG',
		 'https://aldinger-antriebe.example', '+49 821 5550 190',
		 'Gearboxes and drive systems for conveyor and packaging lines.',
		 null, 'Industrial Machinery', 'Power Transmission', 'Haunstetter Straße 88',
		 'Augsburg', 'Bavaria', 'Germany', '86161', 1978, '€100M–€250M', '500–999',
		 'approved', null, 6, 'researcher@example.com', false),
		(3, 'DACH Industrial Manufacturing', 'Huber & Stocker Maschinenbau GmbH',
		 'https://huber-stocker.example', '+43 732 5550 77',
		 'Special-purpose machines for the Austrian steel and timber industries.',
		 null, 'Industrial Machinery', 'Special-Purpose Machinery', 'Wiener Straße 131',
		 'Linz', 'Upper Austria', 'Austria', '4020', 1949, '€50M–€100M', '200–499',
		 'approved', null, 7, 'researcher@example.com', false),
		(4, 'DACH Industrial Manufacturing', 'Kessler Hydraulik GmbH',
		 'https://kessler-hydraulik.example', '+49 521 5550 310',
		 'Hydraulic cylinders and power units; service business growing fast.',
		 null, 'Industrial Machinery', 'Hydraulics', 'Eckendorfer Straße 40', 'Bielefeld',
		 'North Rhine-Westphalia', 'Germany', '33609', 1986, '€25M–€50M', '100–199',
		 'approved', null, 9, 'researcher2@example.com', false),
		(5, 'DACH Industrial Manufacturing', 'Vogt Präzisionsteile AG',
		 'https://vogt-praezision.example', '+41 52 555 04 20',
		 'Swiss turned-parts specialist supplying watchmaking and medtech.',
		 'https://www.linkedin.com/company/vogt-praezision-example',
		 'Industrial Machinery', 'Precision Components', 'Zürcherstrasse 205',
		 'Winterthur', 'Zurich', 'Switzerland', '8406', 1921, 'CHF 100M–250M', '500–999',
		 'approved', null, 10, 'researcher2@example.com', false),
		(6, 'DACH Industrial Manufacturing', 'Lindqvist Fördertechnik GmbH',
		 'https://lindqvist-foerdertechnik.example', null, null, null,
		 'Industrial Machinery', 'Material Handling', null, 'Dortmund',
		 'North Rhine-Westphalia', 'Germany', null, 1994, null, null,
		 'pending', null, 48, 'researcher2@example.com', true),
		(7, 'DACH Industrial Manufacturing', 'Reiter Kunststofftechnik GmbH',
		 'https://reiter-kunststoff.example', null, null, null,
		 'Plastics', 'Injection Moulding', null, 'Graz', 'Styria', 'Austria', null, 2003,
		 null, null, 'pending', null, 48, 'researcher2@example.com', true),
		(8, 'DACH Industrial Manufacturing', 'Falkenberg Gusswerke GmbH',
		 'https://falkenberg-guss.example', '+49 371 5550 600',
		 'Iron foundry for pump and valve housings.', null,
		 'Metals', 'Foundry', 'Annaberger Straße 240', 'Chemnitz', 'Saxony', 'Germany',
		 '09125', 1897, '€25M–€50M', '200–499',
		 'rejected', 'Insolvency proceedings opened this year; not a viable target.', 12,
		 'researcher@example.com', false),
		(9, 'DACH Industrial Manufacturing', 'Brenner Feinmechanik GmbH',
		 'https://www.brenner-feinmechanik.example', '+49 711 5550 142', null, null,
		 'Industrial Machinery', 'Precision Components', null, 'Stuttgart',
		 'Baden-Württemberg', 'Germany', '70565', 1962, null, null,
		 'pending', null, 50, 'researcher2@example.com', false),
		(10, 'DACH Industrial Manufacturing', 'Sommer Elektromotoren GmbH',
		 'https://sommer-motoren.example', null, null, null,
		 'Electrical Equipment', 'Electric Motors', null, 'Nuremberg', 'Bavaria',
		 'Germany', null, 1971, null, null, 'pending', null, 48, 'researcher2@example.com',
		 true),
		-- UK Financial Services
		(11, 'UK Financial Services', 'Thistle Bank plc', 'https://thistlebank.example',
		 '+44 131 555 0188',
		 'Digital challenger bank for small businesses, 400k customers.',
		 'https://www.linkedin.com/company/thistlebank-example',
		 'Financial Services', 'Retail & SME Banking', '12 St Andrew Square', 'Edinburgh',
		 'Scotland', 'United Kingdom', 'EH2 2AD', 2015, '£100M–£250M', '500–999',
		 'approved', null, 4, 'researcher2@example.com', false),
		(12, 'UK Financial Services', 'Harbourside Building Society',
		 'https://harbourside.example', '+44 117 555 0101',
		 'Mutual building society with 38 branches in the South West.', null,
		 'Financial Services', 'Building Society', '1 Harbourside Quay', 'Bristol',
		 'England', 'United Kingdom', 'BS1 5TT', 1868, '£250M–£500M', '1,000–4,999',
		 'approved', null, 5, 'researcher2@example.com', false),
		(13, 'UK Financial Services', 'Kingsmere Insurance Group',
		 'https://kingsmere-insurance.example', '+44 20 5550 7300',
		 'Specialist property and marine insurer; Lloyd''s syndicate.', null,
		 'Insurance', 'Specialty Insurance', '40 Lime Street', 'London', 'England',
		 'United Kingdom', 'EC3M 7AW', 1923, '£500M–£1B', '1,000–4,999',
		 'approved', null, 8, 'researcher@example.com', false),
		(14, 'UK Financial Services', 'Northgate Capital Markets Ltd',
		 'https://northgate-cm.example', '+44 113 555 0420',
		 'Broker-dealer for fixed income; moving trade reporting to the cloud.', null,
		 'Financial Services', 'Capital Markets', '3 Wellington Place', 'Leeds', 'England',
		 'United Kingdom', 'LS1 4AP', 2004, '£50M–£100M', '200–499',
		 'approved', null, 11, 'researcher@example.com', false),
		(15, 'UK Financial Services', 'Pennant Mutual', 'https://pennantmutual.example',
		 null, null, null, 'Insurance', 'Life & Pensions', null, 'Manchester', 'England',
		 'United Kingdom', null, 1899, null, null, 'pending', null, 52,
		 'researcher2@example.com', false),
		(16, 'UK Financial Services', 'Ashcombe Wealth Partners LLP',
		 'https://ashcombe-wealth.example', null, null, null, 'Financial Services',
		 'Wealth Management', null, 'London', 'England', 'United Kingdom', null, 2011, null,
		 null, 'pending', null, 54, 'researcher@example.com', false),
		(17, 'UK Financial Services', 'Redfern Payments Ltd',
		 'https://redfern-payments.example', '+44 29 5550 1122', null, null,
		 'Financial Services', 'Payments', null, 'Cardiff', 'Wales', 'United Kingdom',
		 'CF10 1EP', 2017, '£10M–£25M', '50–99',
		 'rejected', 'Acquired by an existing customer; handled by the account team.', 13,
		 'researcher2@example.com', false),
		(18, 'UK Financial Services', 'Blackwater Lending Ltd',
		 'https://blackwater-lending.example', null, null, null, 'Financial Services',
		 'Consumer Lending', null, 'Glasgow', 'Scotland', 'United Kingdom', null, 2019,
		 '< £10M', '10–49',
		 'rejected', 'Fewer than 50 employees: below the segment''s size threshold.', 14,
		 'researcher@example.com', false),
		(19, 'UK Financial Services', 'QuayPoint Credit Union',
		 'https://quaypoint.example', null, null, null, 'Financial Services',
		 'Credit Union', null, 'Belfast', 'Northern Ireland', 'United Kingdom', null, 1972,
		 null, null, 'pending', null, 56, 'researcher2@example.com', false),
		-- US Regional Healthcare
		(20, 'US Regional Healthcare', 'Cedar Valley Health System',
		 'https://cedarvalleyhealth.example', '+1 515-555-0140',
		 'Seven-hospital network in central Iowa; two EHRs after a 2023 merger.',
		 'https://www.linkedin.com/company/cedarvalleyhealth-example',
		 'Healthcare', 'Hospitals & Health Systems', '1200 Pleasant Street',
		 'Des Moines', 'IA', 'United States', '50309', 1911, '$1B–$5B', '5,000–9,999',
		 'approved', null, 3, 'researcher@example.com', false),
		(21, 'US Regional Healthcare', 'Bluegrass Regional Medical Center',
		 'https://bluegrassrmc.example', '+1 859-555-0175',
		 'Academic-affiliated regional medical center, 450 beds.', null, 'Healthcare',
		 'Hospitals & Health Systems', '800 Rose Street', 'Lexington', 'KY',
		 'United States', '40536', 1957, '$500M–$1B', '1,000–4,999',
		 'approved', null, 4, 'researcher@example.com', false),
		(22, 'US Regional Healthcare', 'Lakeshore Community Hospitals',
		 'https://lakeshorehospitals.example', '+1 616-555-0133',
		 'Community hospitals along Lake Michigan; outsourcing IT operations.', null,
		 'Healthcare', 'Hospitals & Health Systems', '100 Michigan Street NE',
		 'Grand Rapids', 'MI', 'United States', '49503', 1938, '$500M–$1B',
		 '1,000–4,999', 'approved', null, 6, 'researcher2@example.com', false),
		(23, 'US Regional Healthcare', 'Mesa Verde Health Partners',
		 'https://mesaverdehealth.example', '+1 505-555-0112',
		 'Physician-led group of 60 clinics across New Mexico.', null, 'Healthcare',
		 'Physician Groups', '2400 Unser Boulevard SE', 'Albuquerque', 'NM',
		 'United States', '87124', 1996, '$100M–$250M', '500–999',
		 'approved', null, 9, 'researcher@example.com', false),
		(24, 'US Regional Healthcare', 'Pine Hollow Pediatrics Network',
		 'https://pinehollowpeds.example', null, null, null, 'Healthcare',
		 'Physician Groups', null, 'Asheville', 'NC', 'United States', null, 2008, null,
		 null, 'pending', null, 53, 'researcher@example.com', false),
		(25, 'US Regional Healthcare', 'Great Plains Orthopedic Group',
		 'https://greatplainsortho.example', null, null, null, 'Healthcare',
		 'Specialty Practices', null, 'Omaha', 'NE', 'United States', null, 1989, null,
		 null, 'pending', null, 57, 'researcher2@example.com', false),
		(26, 'US Regional Healthcare', 'Tidewater Behavioral Health',
		 'https://tidewaterbh.example', '+1 757-555-0160', null, null, 'Healthcare',
		 'Behavioral Health', null, 'Norfolk', 'VA', 'United States', '23510', 2001,
		 '$25M–$50M', '200–499', 'rejected',
		 'Out of scope: outpatient-only provider with no EHR budget this year.', 15,
		 'researcher@example.com', false),
		(27, 'US Regional Healthcare', 'Summit Ridge Surgical Center',
		 'https://summitridgesurgical.example', '+1 208-555-0199',
		 'Ambulatory surgery centers in Idaho; new cloud-first CIO.', null, 'Healthcare',
		 'Ambulatory Surgery', '3100 Overland Road', 'Boise', 'ID', 'United States',
		 '83705', 2006, '$50M–$100M', '200–499',
		 'approved', null, 16, 'researcher2@example.com', false),
		-- Nordic Retail (archived after loading)
		(28, 'Nordic Retail', 'Fjordhem Interiör AB', 'https://fjordhem.example',
		 '+46 31 555 02 40', 'Furniture and home-goods retailer, 45 stores and online.',
		 null, 'Retail', 'Home Furnishings', 'Kungsportsavenyen 21', 'Gothenburg',
		 'Västra Götaland', 'Sweden', '411 36', 1984, 'SEK 1B–2.5B', '1,000–4,999',
		 'approved', null, 2, 'researcher@example.com', false),
		(29, 'Nordic Retail', 'Nordlys Dagligvare AS', 'https://nordlys-dagligvare.example',
		 '+47 55 55 01 90', 'Regional grocery chain on the Norwegian west coast.', null,
		 'Retail', 'Grocery', 'Strandkaien 2', 'Bergen', 'Vestland', 'Norway', '5013',
		 1958, 'NOK 1B–2.5B', '1,000–4,999', 'approved', null, 3,
		 'researcher@example.com', false),
		(30, 'Nordic Retail', 'Saaristo Outdoor Oy', 'https://saaristo-outdoor.example',
		 null, null, null, 'Retail', 'Sporting Goods', null, 'Turku', 'Southwest Finland',
		 'Finland', null, 1999, null, null, 'pending', null, 17, 'researcher@example.com',
		 false)
	) as v (n, segment_name, name, website, phone, description, linkedin_url, industry,
		sub_industry, street, city, state, country, zip, founded, revenue, employees,
		status, reason, days, creator, in_batch)
	join segments s on s.name = v.segment_name
	join users u on lower(u.email) = v.creator;

	-- ------------------------------------------------------------ contacts

	-- Contacts of approved companies only (the database insists); e-mail at the
	-- company's domain. The step dates follow each other: created, approved (+1 day),
	-- assigned to the SDR (+2), meeting scheduled (+5).
	insert into contacts (first_name, last_name, email, mobile_phone, direct_phone,
		job_title, email_active_status, lead_source, management_level, address_city,
		address_state, address_country, primary_timezone, linkedin_url,
		data_requester_details, company_id, segment_id, status, assigned_sdr_id,
		status_changed_at, status_changed_by, created_by, created_at, updated_at)
	select v.first_name, v.last_name, v.local || '@' || c.website_host, v.mobile,
	       case when v.n % 3 = 0 then c.phone end,
	       v.title, case when v.n % 5 = 0 then 'Accept-all' else 'Valid' end,
	       v.lead_source, v.level, c.address_city, c.address_state, c.address_country,
	       v.tz,
	       case when v.n % 2 = 1 then 'https://www.linkedin.com/in/'
		       || replace(v.local, '.', '-') || '-example' end,
	       case when v.n % 4 = 0 then 'Requested by Sofia Lindberg for the '
		       || s.name || ' campaign' end,
	       c.id, c.segment_id, v.status,
	       case when v.status in ('assigned_to_sdr', 'meeting_scheduled') then sdr_id end,
	       case v.status
	       when 'approved' then ct.created + interval '1 day'
	       when 'assigned_to_sdr' then ct.created + interval '2 days'
	       when 'meeting_scheduled' then ct.created + interval '5 days'
	       end,
	       case v.status
	       when 'uploaded' then null
	       when 'meeting_scheduled' then sdr_id
	       else approver_id
	       end,
	       u.id, ct.created, ct.created
	from (values
		(1, 'Brenner Feinmechanik GmbH', 'Katrin', 'Wolff', 'katrin.wolff',
		 'Head of Production', 'Director', 'meeting_scheduled', '+49 151 5550 1101',
		 'Europe/Berlin', 'Event: Hannover Messe', 1, 'researcher@example.com'),
		(2, 'Brenner Feinmechanik GmbH', 'Jens', 'Hoffmann', 'jens.hoffmann',
		 'Maintenance Manager', 'Manager', 'assigned_to_sdr', null, 'Europe/Berlin',
		 'ZoomInfo', 1, 'researcher@example.com'),
		(3, 'Brenner Feinmechanik GmbH', 'Sabine', 'Krüger', 'sabine.krueger',
		 'Chief Financial Officer', 'C-Level', 'approved', null, 'Europe/Berlin',
		 'ZoomInfo', 2, 'researcher@example.com'),
		(4, 'Aldinger Antriebstechnik AG', 'Florian', 'Maier', 'florian.maier',
		 'Chief Operating Officer', 'C-Level', 'assigned_to_sdr', '+49 160 5550 2204',
		 'Europe/Berlin', 'LinkedIn Sales Navigator', 1, 'researcher@example.com'),
		(5, 'Aldinger Antriebstechnik AG', 'Andrea', 'Schuster', 'andrea.schuster',
		 'Plant Manager', 'Director', 'uploaded', null, 'Europe/Berlin', 'ZoomInfo', 3,
		 'researcher@example.com'),
		-- The same person again, entered later: the dedup job flags this one.
		(6, 'Aldinger Antriebstechnik AG', 'Andrea', 'Schuster', 'andrea.schuster',
		 'Plant Manager', 'Director', 'uploaded', null, 'Europe/Berlin',
		 'LinkedIn Sales Navigator', 4, 'researcher2@example.com'),
		(7, 'Huber & Stocker Maschinenbau GmbH', 'Georg', 'Huber', 'georg.huber',
		 'Managing Director', 'C-Level', 'meeting_scheduled', '+43 664 5550 307',
		 'Europe/Vienna', 'Referral', 1, 'researcher@example.com'),
		(8, 'Huber & Stocker Maschinenbau GmbH', 'Martina', 'Leitner', 'martina.leitner',
		 'Head of IT', 'Director', 'approved', null, 'Europe/Vienna', 'ZoomInfo', 2,
		 'researcher@example.com'),
		(9, 'Kessler Hydraulik GmbH', 'Stefan', 'Brandt', 'stefan.brandt',
		 'Head of Operations', 'Director', 'assigned_to_sdr', '+49 171 5550 4409',
		 'Europe/Berlin', 'ZoomInfo', 1, 'researcher2@example.com'),
		(10, 'Kessler Hydraulik GmbH', 'Julia', 'Neumann', 'julia.neumann',
		 'Procurement Lead', 'Manager', 'uploaded', null, 'Europe/Berlin',
		 'Event: Hannover Messe', 3, 'researcher2@example.com'),
		(11, 'Vogt Präzisionsteile AG', 'Reto', 'Ammann', 'reto.ammann',
		 'Chief Technology Officer', 'C-Level', 'approved', '+41 79 555 11 22',
		 'Europe/Zurich', 'Referral', 1, 'researcher2@example.com'),
		(12, 'Vogt Präzisionsteile AG', 'Nadine', 'Keller', 'nadine.keller',
		 'Quality Manager', 'Manager', 'uploaded', null, 'Europe/Zurich', 'ZoomInfo', 2,
		 'researcher2@example.com'),
		(13, 'Thistle Bank plc', 'Fiona', 'MacLeod', 'fiona.macleod',
		 'Chief Risk Officer', 'C-Level', 'meeting_scheduled', '+44 7700 900113',
		 'Europe/London', 'Event: Money20/20 Europe', 1, 'researcher2@example.com'),
		(14, 'Thistle Bank plc', 'Alasdair', 'Grant', 'alasdair.grant',
		 'Head of Cloud Platform', 'Director', 'assigned_to_sdr', null, 'Europe/London',
		 'LinkedIn Sales Navigator', 1, 'researcher2@example.com'),
		(15, 'Thistle Bank plc', 'Morag', 'Stewart', 'morag.stewart',
		 'Finance Systems Manager', 'Manager', 'approved', null, 'Europe/London',
		 'ZoomInfo', 2, 'researcher2@example.com'),
		(16, 'Harbourside Building Society', 'Oliver', 'Bennett', 'oliver.bennett',
		 'IT Director', 'Director', 'assigned_to_sdr', '+44 7700 900216', 'Europe/London',
		 'ZoomInfo', 1, 'researcher2@example.com'),
		(17, 'Harbourside Building Society', 'Priya', 'Shah', 'priya.shah',
		 'Head of Regulatory Reporting', 'Director', 'approved', null, 'Europe/London',
		 'Referral', 2, 'researcher2@example.com'),
		(18, 'Harbourside Building Society', 'Daniel', 'Hughes', 'daniel.hughes',
		 'Senior Data Engineer', 'Non-Manager', 'uploaded', null, 'Europe/London',
		 'ZoomInfo', 3, 'researcher2@example.com'),
		(19, 'Kingsmere Insurance Group', 'Charlotte', 'Price', 'charlotte.price',
		 'Chief Information Officer', 'C-Level', 'meeting_scheduled', '+44 7700 900319',
		 'Europe/London', 'Event: Money20/20 Europe', 1, 'researcher@example.com'),
		(20, 'Kingsmere Insurance Group', 'James', 'Whitfield', 'james.whitfield',
		 'VP Finance Transformation', 'VP', 'approved', null, 'Europe/London',
		 'LinkedIn Sales Navigator', 2, 'researcher@example.com'),
		(21, 'Northgate Capital Markets Ltd', 'Sarah', 'Ellison', 'sarah.ellison',
		 'Head of Compliance Technology', 'Director', 'uploaded', null, 'Europe/London',
		 'ZoomInfo', 2, 'researcher@example.com'),
		(22, 'Northgate Capital Markets Ltd', 'Mark', 'Thornton', 'mark.thornton',
		 'Chief Financial Officer', 'C-Level', 'approved', null, 'Europe/London',
		 'Referral', 1, 'researcher@example.com'),
		(23, 'Cedar Valley Health System', 'Jennifer', 'Alvarez', 'jennifer.alvarez',
		 'VP of Clinical Informatics', 'VP', 'meeting_scheduled', '+1 515-555-0181',
		 'America/Chicago', 'Event: HIMSS', 1, 'researcher@example.com'),
		(24, 'Cedar Valley Health System', 'Michael', 'Brooks', 'michael.brooks',
		 'Director of IT Infrastructure', 'Director', 'assigned_to_sdr', null,
		 'America/Chicago', 'ZoomInfo', 1, 'researcher@example.com'),
		(25, 'Cedar Valley Health System', 'Karen', 'Liu', 'karen.liu',
		 'Revenue Cycle Manager', 'Manager', 'uploaded', null, 'America/Chicago',
		 'ZoomInfo', 3, 'researcher@example.com'),
		(26, 'Bluegrass Regional Medical Center', 'Robert', 'Carter', 'robert.carter',
		 'Chief Information Officer', 'C-Level', 'assigned_to_sdr', '+1 859-555-0126',
		 'America/New_York', 'LinkedIn Sales Navigator', 1, 'researcher@example.com'),
		(27, 'Bluegrass Regional Medical Center', 'Emily', 'Nguyen', 'emily.nguyen',
		 'Interoperability Lead', 'Manager', 'approved', null, 'America/New_York',
		 'Event: HIMSS', 2, 'researcher@example.com'),
		(28, 'Lakeshore Community Hospitals', 'David', 'Kowalski', 'david.kowalski',
		 'Chief Medical Information Officer', 'C-Level', 'approved', null,
		 'America/Detroit', 'Referral', 1, 'researcher2@example.com'),
		(29, 'Lakeshore Community Hospitals', 'Angela', 'Robinson', 'angela.robinson',
		 'Director of Patient Access', 'Director', 'uploaded', null, 'America/Detroit',
		 'ZoomInfo', 2, 'researcher2@example.com'),
		(30, 'Mesa Verde Health Partners', 'Carlos', 'Ortega', 'carlos.ortega',
		 'Chief Executive Officer', 'C-Level', 'meeting_scheduled', '+1 505-555-0130',
		 'America/Denver', 'Referral', 1, 'researcher@example.com'),
		(31, 'Mesa Verde Health Partners', 'Rachel', 'Tso', 'rachel.tso',
		 'IT Project Manager', 'Manager', 'assigned_to_sdr', null, 'America/Denver',
		 'ZoomInfo', 1, 'researcher@example.com'),
		(32, 'Mesa Verde Health Partners', 'Brian', 'Yazzie', 'brian.yazzie',
		 'Network Engineer', 'Non-Manager', 'uploaded', null, 'America/Denver',
		 'ZoomInfo', 3, 'researcher@example.com'),
		(33, 'Summit Ridge Surgical Center', 'Laura', 'Whitaker', 'laura.whitaker',
		 'Administrator', 'Director', 'approved', null, 'America/Boise',
		 'LinkedIn Sales Navigator', 1, 'researcher2@example.com'),
		(34, 'Summit Ridge Surgical Center', 'Kevin', 'Moore', 'kevin.moore',
		 'Director of Finance', 'Director', 'assigned_to_sdr', '+1 208-555-0134',
		 'America/Boise', 'ZoomInfo', 1, 'researcher2@example.com'),
		(35, 'Fjordhem Interiör AB', 'Elin', 'Johansson', 'elin.johansson',
		 'Head of E-commerce', 'Director', 'approved', null, 'Europe/Stockholm',
		 'ZoomInfo', 1, 'researcher@example.com'),
		(36, 'Fjordhem Interiör AB', 'Oskar', 'Lindgren', 'oskar.lindgren',
		 'Chief Marketing Officer', 'C-Level', 'uploaded', null, 'Europe/Stockholm',
		 'LinkedIn Sales Navigator', 2, 'researcher@example.com'),
		(37, 'Nordlys Dagligvare AS', 'Ingrid', 'Haugen', 'ingrid.haugen',
		 'Customer Insight Manager', 'Manager', 'approved', null, 'Europe/Oslo',
		 'ZoomInfo', 1, 'researcher@example.com'),
		(38, 'Nordlys Dagligvare AS', 'Lars', 'Nilsen', 'lars.nilsen',
		 'Chief Information Officer', 'C-Level', 'assigned_to_sdr', '+47 412 55 038',
		 'Europe/Oslo', 'Referral', 1, 'researcher@example.com'),
		(39, 'Thistle Bank plc', 'Euan', 'Robertson', 'euan.robertson',
		 'Head of Procurement', 'Director', 'uploaded', null, 'Europe/London',
		 'ZoomInfo', 4, 'researcher2@example.com'),
		(40, 'Kingsmere Insurance Group', 'Amelia', 'Clarke', 'amelia.clarke',
		 'Data Protection Officer', 'Manager', 'approved', null, 'Europe/London',
		 'ZoomInfo', 3, 'researcher@example.com')
	) as v (n, company_name, first_name, last_name, local, title, level, status, mobile,
		tz, lead_source, days, creator)
	join companies c on c.name = v.company_name and c.status = 'approved'
	join segments s on s.id = c.segment_id
	join users u on lower(u.email) = v.creator
	cross join lateral (select c.status_changed_at + v.days * interval '1 day'
		+ v.n * interval '11 minutes' as created) ct;

	-- Nordic Retail's campaign is over: archived, its records kept for reference.
	update segments set status = 'archived', archived_by = owner_id,
		archived_at = t0 + interval '40 days'
	where name = 'Nordic Retail';

	-- ------------------------------------------------------------ assignments

	insert into assignments (entity_type, entity_id, assigned_to, assigned_by, role_id,
		created_at, updated_at)
	select 'segment', s.id, u.id, b.id, r.id, s.created_at + interval '1 hour',
	       s.created_at + interval '1 hour'
	from (values
		('DACH Industrial Manufacturing', 'researcher@example.com', 'owner@example.com',
		 'Researcher'),
		('DACH Industrial Manufacturing', 'researcher2@example.com', 'owner@example.com',
		 'Researcher'),
		('DACH Industrial Manufacturing', 'approver@example.com', 'owner@example.com',
		 'Approver'),
		('UK Financial Services', 'researcher2@example.com', 'owner@example.com',
		 'Researcher'),
		('UK Financial Services', 'sdr@example.com', 'owner@example.com', 'SDR'),
		('US Regional Healthcare', 'researcher@example.com', 'approver@example.com',
		 'Researcher'),
		('US Regional Healthcare', 'sdr@example.com', 'owner@example.com', 'SDR')
	) as v (segment_name, assignee, assigner, role_name)
	join segments s on s.name = v.segment_name
	join users u on lower(u.email) = v.assignee
	join users b on lower(b.email) = v.assigner
	join roles r on r.name = v.role_name;

	-- An approved company handed to a researcher for contact research.
	insert into assignments (entity_type, entity_id, assigned_to, assigned_by, role_id,
		created_at, updated_at)
	select 'company', c.id, res2_id, approver_id, r.id, c.status_changed_at + interval '2 hours',
	       c.status_changed_at + interval '2 hours'
	from companies c, roles r
	where c.name = 'Lakeshore Community Hospitals' and r.name = 'Researcher';

	-- Every contact with an SDR has the matching contact -> SDR assignment.
	insert into assignments (entity_type, entity_id, assigned_to, assigned_by, role_id,
		created_at, updated_at)
	select 'contact', ct.id, ct.assigned_sdr_id, approver_id, r.id,
	       ct.created_at + interval '2 days', ct.created_at + interval '2 days'
	from contacts ct, roles r
	where ct.assigned_sdr_id is not null and r.name = 'SDR';

	-- ------------------------------------------------------------ marketing collateral

	insert into marketing_collaterals (title, url, description, scope_type, scope_id,
		created_by, created_at, updated_at)
	select v.title, v.url, v.description, v.scope_type, coalesce(s.id, o.id, ct.id), mkt_id,
	       t0 + v.days * interval '1 day', t0 + v.days * interval '1 day'
	from (values
		('Predictive maintenance ROI one-pager (German)',
		 'https://contoso.sharepoint.com/sites/marketing/Shared%20Documents/DACH/pdm-roi-onepager-de.pdf',
		 'Two-page ROI summary for plant managers.', 'segment',
		 'DACH Industrial Manufacturing', null, null, 20),
		('Operational resilience webinar recording',
		 'https://contoso.sharepoint.com/sites/marketing/Shared%20Documents/UK/op-res-webinar.mp4',
		 null, 'segment', 'UK Financial Services', null, null, 22),
		('Cloud cost benchmark report',
		 'https://contoso.sharepoint.com/sites/marketing/Shared%20Documents/Offerings/cloud-cost-benchmark.pdf',
		 'Benchmark of cloud spend per workload across 120 mid-sized firms.', 'offering',
		 null, 'Cloud Cost Optimisation', null, 24),
		('Case study: one patient record across two EHRs',
		 'https://contoso.sharepoint.com/sites/marketing/Shared%20Documents/Offerings/pdi-case-study.pdf',
		 null, 'offering', null, 'Patient Data Integration', null, 25),
		('Meeting deck for Thistle Bank',
		 'https://contoso.sharepoint.com/sites/sales/Shared%20Documents/Accounts/thistle-bank-deck.pptx',
		 'Tailored for the meeting with the Chief Risk Officer.', 'lead', null, null,
		 'fiona.macleod', 45)
	) as v (title, url, description, scope_type, segment_name, offering_name, contact_local,
		days)
	left join segments s on s.name = v.segment_name
	left join offerings o on o.name = v.offering_name
	left join contacts ct on ct.email like v.contact_local || '@%';

	-- ------------------------------------------------------------ audit trail

	-- What the application would have logged while all of the above was entered.
	insert into audit_logs (actor_id, action, entity_type, entity_id, details, created_at)
	select admin_id, 'create', 'user', u.id,
	       jsonb_build_object('email', u.email, 'name', u.name, 'roles',
		       (select jsonb_agg(r.name order by r.name) from user_roles ur
			join roles r on r.id = ur.role_id where ur.user_id = u.id)),
	       u.created_at
	from users u where u.id <> admin_id
	union all
	select admin_id, 'deactivate', 'user', u.id, jsonb_build_object('email', u.email),
	       u.deactivated_at
	from users u where not u.is_active
	union all
	select s.created_by, 'create', 'segment', s.id,
	       jsonb_build_object('name', s.name, 'offerings',
		       (select jsonb_agg(o.name order by o.name) from segment_offerings so
			join offerings o on o.id = so.offering_id where so.segment_id = s.id)),
	       s.created_at
	from segments s
	union all
	select s.archived_by, 'archive', 'segment', s.id, jsonb_build_object('name', s.name),
	       s.archived_at
	from segments s where s.status = 'archived'
	union all
	select o.created_by, 'create', 'offering', o.id,
	       jsonb_build_object('name', o.name, 'status', o.status), o.created_at
	from offerings o
	union all
	select b.uploader_id, 'upload', 'upload_batch', b.id,
	       jsonb_build_object('entity_type', b.entity_type, 'file_name', b.file_name,
		       'total_rows', b.total_rows, 'imported', b.valid_rows,
		       'failed', b.invalid_rows),
	       b.created_at
	from upload_batches b
	union all
	select c.created_by, case when c.batch_id is null then 'create' else 'import' end,
	       'company', c.id,
	       jsonb_strip_nulls(jsonb_build_object('name', c.name, 'segment_id', c.segment_id,
		       'website', c.website, 'batch_id', c.batch_id)),
	       c.created_at
	from companies c
	union all
	select c.status_changed_by, case c.status when 'approved' then 'approve' else 'reject' end,
	       'company', c.id,
	       jsonb_strip_nulls(jsonb_build_object('name', c.name, 'reason',
		       c.rejection_reason)),
	       c.status_changed_at
	from companies c where c.status <> 'pending'
	union all
	select ct.created_by, 'create', 'contact', ct.id,
	       jsonb_build_object('name', ct.first_name || ' ' || ct.last_name, 'email', ct.email,
		       'company_id', ct.company_id),
	       ct.created_at
	from contacts ct
	union all
	select approver_id, 'approve', 'contact', ct.id,
	       jsonb_build_object('name', ct.first_name || ' ' || ct.last_name),
	       ct.created_at + interval '1 day'
	from contacts ct where ct.status <> 'uploaded'
	union all
	select ct.status_changed_by, 'schedule_meeting', 'contact', ct.id,
	       jsonb_build_object('name', ct.first_name || ' ' || ct.last_name),
	       ct.status_changed_at
	from contacts ct where ct.status = 'meeting_scheduled'
	union all
	select a.assigned_by, 'assign', a.entity_type, a.entity_id,
	       jsonb_build_object('assigned_to', a.assigned_to, 'assignee', u.email, 'role',
		       r.name),
	       a.created_at
	from assignments a
	join users u on u.id = a.assigned_to
	left join roles r on r.id = a.role_id
	union all
	select m.created_by, 'create', 'collateral', m.id,
	       jsonb_build_object('title', m.title, 'url', m.url, 'scope_type', m.scope_type,
		       'scope_id', m.scope_id),
	       m.created_at
	from marketing_collaterals m;
end
$seed$;
