-- bench/gen.sql — set-based data generator for the page benchmark (run by bench/gen).
--
-- psql variables (set by bench/gen):
--   scale      1, 10 or 100 (× SPEC's expected volume)
--   companies  1,000 × scale       contacts  10,000 × scale
--
-- Expects a freshly migrated, otherwise empty database (bench/gen drops and re-creates
-- it). Everything below is generated inside PostgreSQL with generate_series and arrays
-- of name parts; nothing is read from outside. Deterministic: setseed() fixes random()
-- and every generated id is md5('spanner-bench-<kind>-<n>')::uuid, so the same scale
-- always gives the same rows, the same ids and therefore the same panel company.
--
-- What it makes (numbers at scale 1; ×scale for companies and contacts):
--   users       8·√scale researchers, ¼ as many approvers, ⅓ as many SDRs, 3 segment
--               owners, 2 marketing, plus bench.approver@bench.example (Approver; the
--               benchmark signs in as this user). Every bench user has the password of
--               admin@example.com (SPANNER_ADMIN_PASSWORD of the bench cluster).
--   segments    20 (18 active, 2 archived), each a region × industries theme
--   companies   1,000: 97% generated, 3% duplicates of earlier ones (is_duplicate,
--               duplicate_of); statuses ~60% approved / 30% pending / 10% rejected with a
--               reason; ~1% deactivated; created_at spread over the last two years
--   contacts    10,000, only on approved, non-duplicate companies: 98% generated, 2%
--               duplicates; uploaded / approved / assigned_to_sdr / meeting_scheduled
--               ~35 / 35 / 20 / 10 %, SDR set where the status needs one
--   assignments segments to researchers, approvers and SDRs
--   audit_logs  what creating all that would have written: company create + decision,
--               contact create (so the panel's timeline has real rows to read)
--
-- The bulk load runs with session_replication_role = replica (no foreign-key or user
-- triggers; CHECK constraints still apply) and with the secondary indexes of companies,
-- contacts and audit_logs dropped and rebuilt afterwards from their own definitions
-- (pg_get_indexdef), so the result has exactly the schema's indexes.

\set ON_ERROR_STOP on
set client_min_messages = warning;
set session_replication_role = replica;
set maintenance_work_mem = '512MB';
set work_mem = '256MB';
select setseed(0.20261122) as seeded \gset

-- ------------------------------------------------------------------ helpers

create function pg_temp.pick(a anyarray, r double precision) returns anyelement
language sql immutable as $$ select $1[1 + floor($2 * cardinality($1))::int] $$;

-- Lower-case ASCII letters and digits only: for host names and e-mail local parts.
create function pg_temp.slug(t text) returns text
language sql immutable as $$
	select regexp_replace(translate(lower($1), 'äöüßáàâãåçéèêëíìîïñóòôõøúùûýæ',
		'aousaaaaaceeeeiiiinooooouuuya'), '[^a-z0-9]+', '', 'g')
$$;

create function pg_temp.digits(n int, r double precision) returns text
language sql immutable as $$
	select lpad((floor($2 * power(10, $1)))::bigint::text, $1, '0')
$$;

-- ------------------------------------------------------------------ reference data

create temp table b_country (
	country text primary key, suffixes text[], tz text, phone text, currency text,
	streets text[], number_first boolean);
insert into b_country values
	('Germany', '{GmbH,AG,"GmbH & Co. KG",SE}', 'Europe/Berlin', '+49', '€',
	 '{Hafenstraße,Industriestraße,Bahnhofstraße,Hauptstraße,Schillerstraße,Am Sandtorkai,Lindenallee,Gewerbepark Süd}', false),
	('Austria', '{GmbH,AG}', 'Europe/Vienna', '+43', '€',
	 '{Mariahilfer Straße,Landstraßer Hauptstraße,Industriezeile,Wiener Straße}', false),
	('Switzerland', '{AG,GmbH,SA}', 'Europe/Zurich', '+41', 'CHF ',
	 '{Bahnhofstrasse,Seestrasse,Industriestrasse,Hardturmstrasse}', false),
	('United Kingdom', '{Ltd,plc,Limited,LLP}', 'Europe/London', '+44', '£',
	 '{High Street,Station Road,Market Street,King Street,Wellington Place,Harbourside Quay,Commercial Road}', true),
	('United States', '{Inc.,LLC,Corp.,Co.}', 'America/Chicago', '+1', '$',
	 '{Main Street,Commerce Drive,Park Avenue,Industrial Parkway,Market Street,Lakeshore Drive,Innovation Way}', true),
	('Sweden', '{AB}', 'Europe/Stockholm', '+46', '€',
	 '{Storgatan,Drottninggatan,Sveavägen,Hamngatan}', false),
	('Norway', '{AS,ASA}', 'Europe/Oslo', '+47', '€',
	 '{Karl Johans gate,Storgata,Bryggen,Havnegata}', false),
	('Finland', '{Oy,Oyj}', 'Europe/Helsinki', '+358', '€',
	 '{Mannerheimintie,Aleksanterinkatu,Satamakatu}', false),
	('Denmark', '{A/S,ApS}', 'Europe/Copenhagen', '+45', '€',
	 '{Strøget,Havnegade,Vesterbrogade}', false),
	('Netherlands', '{B.V.,N.V.}', 'Europe/Amsterdam', '+31', '€',
	 '{Keizersgracht,Stationsplein,Havenstraat,Industrieweg}', false),
	('Belgium', '{NV,SA,BV}', 'Europe/Brussels', '+32', '€',
	 '{Rue de la Loi,Meir,Havenlaan,Avenue Louise}', false),
	('Luxembourg', '{S.A.,S.à r.l.}', 'Europe/Luxembourg', '+352', '€',
	 '{Boulevard Royal,Route d''Arlon,Rue du Fossé}', false),
	('France', '{SAS,SA,SARL}', 'Europe/Paris', '+33', '€',
	 '{Rue de la République,Avenue Jean Jaurès,Rue Victor Hugo,Quai des Chartrons,Boulevard Haussmann}', true),
	('Spain', '{S.L.,S.A.}', 'Europe/Madrid', '+34', '€',
	 '{Calle Mayor,Paseo de la Castellana,Avenida Diagonal,Calle de Alcalá}', false),
	('Portugal', '{Lda.,S.A.}', 'Europe/Lisbon', '+351', '€',
	 '{Avenida da Liberdade,Rua Augusta,Rua de Santa Catarina}', false),
	('Italy', '{S.p.A.,S.r.l.}', 'Europe/Rome', '+39', '€',
	 '{Via Roma,Via Garibaldi,Corso Vittorio Emanuele II,Via Torino}', false);

create temp table b_city (
	id serial primary key, region text, city text, state text, country text, zip text,
	area text);
insert into b_city (region, city, state, country, zip, area) values
	('DACH', 'Hamburg', 'Hamburg', 'Germany', '20457', '40'),
	('DACH', 'Munich', 'Bavaria', 'Germany', '80331', '89'),
	('DACH', 'Berlin', 'Berlin', 'Germany', '10115', '30'),
	('DACH', 'Frankfurt am Main', 'Hesse', 'Germany', '60311', '69'),
	('DACH', 'Stuttgart', 'Baden-Württemberg', 'Germany', '70173', '711'),
	('DACH', 'Cologne', 'North Rhine-Westphalia', 'Germany', '50667', '221'),
	('DACH', 'Düsseldorf', 'North Rhine-Westphalia', 'Germany', '40213', '211'),
	('DACH', 'Leipzig', 'Saxony', 'Germany', '04109', '341'),
	('DACH', 'Nuremberg', 'Bavaria', 'Germany', '90402', '911'),
	('DACH', 'Bremen', 'Bremen', 'Germany', '28195', '421'),
	('DACH', 'Vienna', 'Vienna', 'Austria', '1010', '1'),
	('DACH', 'Graz', 'Styria', 'Austria', '8010', '316'),
	('DACH', 'Linz', 'Upper Austria', 'Austria', '4020', '732'),
	('DACH', 'Zurich', 'Zurich', 'Switzerland', '8001', '44'),
	('DACH', 'Basel', 'Basel-Stadt', 'Switzerland', '4051', '61'),
	('UK', 'London', 'England', 'United Kingdom', 'EC2A 4NE', '20'),
	('UK', 'Manchester', 'England', 'United Kingdom', 'M1 1AE', '161'),
	('UK', 'Birmingham', 'England', 'United Kingdom', 'B2 4QA', '121'),
	('UK', 'Leeds', 'England', 'United Kingdom', 'LS1 4AP', '113'),
	('UK', 'Bristol', 'England', 'United Kingdom', 'BS1 5TT', '117'),
	('UK', 'Edinburgh', 'Scotland', 'United Kingdom', 'EH2 2AD', '131'),
	('UK', 'Glasgow', 'Scotland', 'United Kingdom', 'G1 3SL', '141'),
	('UK', 'Cardiff', 'Wales', 'United Kingdom', 'CF10 1EP', '29'),
	('US', 'Chicago', 'IL', 'United States', '60601', '312'),
	('US', 'Columbus', 'OH', 'United States', '43215', '614'),
	('US', 'Nashville', 'TN', 'United States', '37203', '615'),
	('US', 'Atlanta', 'GA', 'United States', '30303', '404'),
	('US', 'Dallas', 'TX', 'United States', '75201', '214'),
	('US', 'Austin', 'TX', 'United States', '78701', '512'),
	('US', 'Denver', 'CO', 'United States', '80202', '303'),
	('US', 'Minneapolis', 'MN', 'United States', '55401', '612'),
	('US', 'Charlotte', 'NC', 'United States', '28202', '704'),
	('US', 'Boston', 'MA', 'United States', '02110', '617'),
	('US', 'Seattle', 'WA', 'United States', '98101', '206'),
	('US', 'St. Louis', 'MO', 'United States', '63101', '314'),
	('US', 'Phoenix', 'AZ', 'United States', '85004', '602'),
	('US', 'Pittsburgh', 'PA', 'United States', '15222', '412'),
	('Nordics', 'Stockholm', 'Stockholm County', 'Sweden', '111 20', '8'),
	('Nordics', 'Gothenburg', 'Västra Götaland', 'Sweden', '411 04', '31'),
	('Nordics', 'Malmö', 'Skåne', 'Sweden', '211 20', '40'),
	('Nordics', 'Oslo', 'Oslo', 'Norway', '0150', '22'),
	('Nordics', 'Bergen', 'Vestland', 'Norway', '5003', '55'),
	('Nordics', 'Helsinki', 'Uusimaa', 'Finland', '00100', '9'),
	('Nordics', 'Tampere', 'Pirkanmaa', 'Finland', '33100', '3'),
	('Nordics', 'Copenhagen', 'Capital Region', 'Denmark', '1050', '33'),
	('Nordics', 'Aarhus', 'Central Denmark', 'Denmark', '8000', '86'),
	('Benelux', 'Amsterdam', 'North Holland', 'Netherlands', '1012 AB', '20'),
	('Benelux', 'Rotterdam', 'South Holland', 'Netherlands', '3011 AA', '10'),
	('Benelux', 'Utrecht', 'Utrecht', 'Netherlands', '3511 AA', '30'),
	('Benelux', 'Eindhoven', 'North Brabant', 'Netherlands', '5611 AA', '40'),
	('Benelux', 'Brussels', 'Brussels-Capital', 'Belgium', '1000', '2'),
	('Benelux', 'Antwerp', 'Antwerp', 'Belgium', '2000', '3'),
	('Benelux', 'Ghent', 'East Flanders', 'Belgium', '9000', '9'),
	('Benelux', 'Luxembourg', 'Luxembourg', 'Luxembourg', 'L-1111', '2'),
	('France', 'Paris', 'Île-de-France', 'France', '75008', '1'),
	('France', 'Lyon', 'Auvergne-Rhône-Alpes', 'France', '69002', '4'),
	('France', 'Marseille', 'Provence-Alpes-Côte d''Azur', 'France', '13001', '4'),
	('France', 'Toulouse', 'Occitanie', 'France', '31000', '5'),
	('France', 'Lille', 'Hauts-de-France', 'France', '59000', '3'),
	('France', 'Nantes', 'Pays de la Loire', 'France', '44000', '2'),
	('France', 'Bordeaux', 'Nouvelle-Aquitaine', 'France', '33000', '5'),
	('South', 'Madrid', 'Community of Madrid', 'Spain', '28013', '91'),
	('South', 'Barcelona', 'Catalonia', 'Spain', '08002', '93'),
	('South', 'Valencia', 'Valencian Community', 'Spain', '46002', '96'),
	('South', 'Bilbao', 'Basque Country', 'Spain', '48001', '94'),
	('South', 'Lisbon', 'Lisbon', 'Portugal', '1100-148', '21'),
	('South', 'Porto', 'Porto', 'Portugal', '4000-322', '22'),
	('South', 'Milan', 'Lombardy', 'Italy', '20121', '02'),
	('South', 'Turin', 'Piedmont', 'Italy', '10121', '011'),
	('South', 'Bologna', 'Emilia-Romagna', 'Italy', '40121', '051'),
	('South', 'Verona', 'Veneto', 'Italy', '37121', '045');

create temp table b_industry (industry text primary key, nouns text[], subs text[]);
insert into b_industry values
	('Manufacturing', '{Precision,Machining,Components,Metalworks,Fabrication,Industries,Tooling,Castings}',
	 '{Industrial Machinery,Metal Fabrication,Plastics,Precision Components,Foundry}'),
	('Industrial Automation', '{Automation,Robotics,Controls,Motion Systems,Drives}',
	 '{Robotics,Process Control,Sensors,Machine Vision}'),
	('Logistics', '{Logistics,Freight,Shipping,Transport,Cargo,Supply Chain,Haulage}',
	 '{Freight Forwarding,Warehousing,Road Transport,Cold Chain,Contract Logistics}'),
	('Financial Services', '{Capital,Bank,Finance,Asset Management,Credit,Payments}',
	 '{Retail & SME Banking,Asset Management,Payments,Lending,Capital Markets}'),
	('Insurance', '{Insurance,Assurance,Mutual,Underwriters}',
	 '{Life & Pensions,Property & Casualty,Specialty Insurance}'),
	('Healthcare', '{Health,Medical Group,Clinics,Dental Group,Orthopedics,Care,Physicians,Dental}',
	 '{Hospitals,Dental Practices,Physician Groups,Outpatient Care,Home Care}'),
	('Software', '{Software,Systems,Analytics,Cloud,Data,Labs,Digital}',
	 '{SaaS,Data & Analytics,Security,DevOps,ERP}'),
	('Construction', '{Builders,Construction,Engineering,Infrastructure,Contractors}',
	 '{Commercial Construction,Civil Engineering,Building Services}'),
	('Retail', '{Outfitters,Retail,Markets,Home & Garden,Stores,Fashion}',
	 '{Apparel,Grocery,Home Furnishings,Sporting Goods}'),
	('Energy', '{Energy,Solar,Wind,Power,Renewables,Utilities}',
	 '{Solar,Wind,Grid Services,Energy Storage}'),
	('Food & Beverage', '{Foods,Dairy,Bakeries,Brewing,Provisions}',
	 '{Dairy,Bakery,Beverages,Meat Processing}'),
	('Hospitality', '{Hotels,Hospitality,Resorts,Inns}', '{Hotels,Restaurants,Resorts}'),
	('Pharmaceuticals', '{Pharma,Biotech,Therapeutics,Biosciences,Diagnostics}',
	 '{Biotechnology,Generics,Diagnostics,Contract Research}'),
	('Professional Services', '{Partners,Consulting,Advisory,Associates}',
	 '{Management Consulting,Accounting,Legal}'),
	('Real Estate', '{Properties,Realty,Estates,Property Group}',
	 '{Commercial,Office,Industrial,Residential}'),
	('Telecommunications', '{Telecom,Networks,Communications,Fiber}',
	 '{Mobile,Fixed Line,Fiber Broadband}');

-- ord 1 is the largest segment: companies are spread with a skew (see below).
create temp table b_segment (
	ord int primary key, id uuid, name text, regions text[], industries text[],
	archived boolean, description text);
insert into b_segment (ord, name, regions, industries, archived, description) values
	(1, 'DACH Industrial Manufacturing', '{DACH}', '{Manufacturing,Industrial Automation}', false,
	 'Mid-sized machine builders and component makers modernising their shop floor.'),
	(2, 'US Regional Healthcare', '{US}', '{Healthcare}', false,
	 'Regional hospital networks and physician groups consolidating patient data.'),
	(3, 'UK Financial Services', '{UK}', '{Financial Services,Insurance}', false,
	 'Challenger banks, building societies and specialist insurers.'),
	(4, 'US Mid-Market SaaS', '{US}', '{Software}', false,
	 'B2B software companies between 100 and 1,000 employees.'),
	(5, 'DACH Logistics Mid-Market', '{DACH}', '{Logistics}', false,
	 'Freight forwarders and contract logistics providers with their own fleet.'),
	(6, 'US Dental Groups', '{US}', '{Healthcare}', false,
	 'Dental service organisations and multi-site practices.'),
	(7, 'Benelux Logistics Hubs', '{Benelux}', '{Logistics}', false,
	 'Port and hinterland logistics around Rotterdam and Antwerp.'),
	(8, 'France Hospitality Groups', '{France}', '{Hospitality}', false,
	 'Hotel groups and restaurant chains with more than ten sites.'),
	(9, 'Nordic Energy Transition', '{Nordics}', '{Energy}', false,
	 'Utilities and renewable developers in Sweden, Norway, Finland and Denmark.'),
	(10, 'US Construction & Engineering', '{US}', '{Construction}', false,
	 'General contractors and engineering firms in commercial construction.'),
	(11, 'UK Professional Services', '{UK}', '{Professional Services}', false,
	 'Consultancies, accountancies and law firms outside the top ten.'),
	(12, 'DACH Software Scale-ups', '{DACH}', '{Software}', false,
	 'Venture-backed software companies after their Series B.'),
	(13, 'Southern Europe Renewables', '{South}', '{Energy}', false,
	 'Solar and wind developers in Spain, Portugal and Italy.'),
	(14, 'Italy Industrial Machinery', '{South}', '{Manufacturing}', false,
	 'Machine builders in Lombardy, Piedmont, Emilia-Romagna and Veneto.'),
	(15, 'France Pharma & Biotech', '{France}', '{Pharmaceuticals}', false,
	 'Biotech and speciality pharma with their own manufacturing.'),
	(16, 'Benelux Food Processing', '{Benelux}', '{Food & Beverage}', false,
	 'Dairy, bakery and beverage producers with export business.'),
	(17, 'US Commercial Real Estate', '{US}', '{Real Estate}', false,
	 'Owners and operators of office and industrial portfolios.'),
	(18, 'European Telecom Operators', '{DACH,UK,Nordics,Benelux,France,South}',
	 '{Telecommunications}', false, 'Regional and alternative network operators.'),
	(19, 'Nordic Retail', '{Nordics}', '{Retail}', true,
	 'Omnichannel retailers. Campaign closed; kept for reference.'),
	(20, 'UK Healthcare Providers', '{UK}', '{Healthcare}', true,
	 'Independent hospitals and care groups. Campaign closed.');
update b_segment set id = md5('spanner-bench-segment-' || ord)::uuid;

create temp table b_seg_city as
select s.ord, array_agg(c.id order by c.id) as ids
from b_segment s join b_city c on c.region = any (s.regions)
group by s.ord;

create temp table b_words as select
	array['Nordwind', 'Harbor Point', 'Blue Ridge', 'Silverline', 'Alpen', 'Meridian',
	      'Northstar', 'Granite', 'Redwood', 'Lakeside', 'Summit', 'Cedar', 'Ironbridge',
	      'Oakmont', 'Crescent', 'Brightwater', 'Falcon', 'Westbrook', 'Riverside', 'Pinecrest',
	      'Evergreen', 'Highland', 'Clearwater', 'Stonegate', 'Kestrel', 'Aurora', 'Beacon',
	      'Copperfield', 'Driftwood', 'Eastgate', 'Fjordline', 'Goldcrest', 'Hansa', 'Isarwerk',
	      'Juniper', 'Keystone', 'Lindenhof', 'Marlow', 'Neckar', 'Osprey', 'Pacific Rim',
	      'Quarry Hill', 'Rheintal', 'Saxon', 'Tidewater', 'Uplands', 'Valemont', 'Wexford',
	      'Yarrow', 'Zenith', 'Baltic', 'Carrington', 'Donau', 'Elbtal', 'Fairhaven',
	      'Greenfield', 'Hollis', 'Ashford', 'Bergmann', 'Castell', 'Delacroix', 'Ellery',
	      'Fenwick', 'Gransden', 'Hartwell', 'Ingram', 'Jansen', 'Kingsmere', 'Larkspur',
	      'Morrow', 'Northgate', 'Oberland', 'Pennant', 'Quinton', 'Rosendal', 'Sterling',
	      'Thistle', 'Ulmer', 'Vantage', 'Waldeck', 'Atlas', 'Bridgewater', 'Cobalt',
	      'Danube', 'Emberly', 'Foxglove', 'Glenmore', 'Horizon', 'Ivy Lane', 'Jadeport',
	      'Kilburn', 'Lumen', 'Mistral', 'Nimbus', 'Orchard', 'Polaris', 'Redcliffe',
	      'Seabrook', 'Trident', 'Unity'] as prefixes,
	array['', '', '', '', 'Group', 'Solutions', 'Services', 'International', 'Holdings',
	      'Partners', 'Europe', 'Systems'] as qualifiers,
	array['Anna', 'Lukas', 'Sophie', 'Maximilian', 'Laura', 'Jonas', 'Lea', 'Felix', 'Hannah',
	      'Paul', 'Emma', 'Noah', 'Olivia', 'Liam', 'Charlotte', 'Oliver', 'Amelia', 'George',
	      'Isla', 'Harry', 'Mia', 'Jack', 'Ava', 'James', 'Emily', 'William', 'Sofia',
	      'Benjamin', 'Chloe', 'Lucas', 'Camille', 'Hugo', 'Léa', 'Louis', 'Manon', 'Jules',
	      'Inès', 'Gabriel', 'Elin', 'Oskar', 'Astrid', 'Erik', 'Ingrid', 'Lars', 'Freja',
	      'Magnus', 'Sanne', 'Daan', 'Fleur', 'Bram', 'Lotte', 'Sem', 'Lucía', 'Martina',
	      'Javier', 'Carmen', 'Diego', 'Giulia', 'Marco', 'Chiara', 'Luca', 'Francesca',
	      'Matteo', 'Ana', 'João', 'Beatriz', 'Tiago', 'Priya', 'Arjun', 'Ananya', 'Rohan',
	      'Wei', 'Mei', 'Jun', 'Yuki', 'Hiroshi', 'Aisha', 'Omar', 'Fatima', 'Yusuf', 'Zeynep',
	      'Emre', 'Olga', 'Dmitri', 'Katarzyna', 'Piotr', 'Agnieszka', 'Tomasz', 'Eva', 'Jan',
	      'Petra', 'Michael', 'Jennifer', 'David', 'Sarah', 'Daniel', 'Jessica', 'Christopher',
	      'Ashley', 'Matthew', 'Rachel', 'Andrew', 'Nicole', 'Ryan', 'Megan', 'Kevin', 'Lauren',
	      'Brian', 'Stephanie', 'Thomas', 'Julia', 'Stefan', 'Katrin', 'Markus', 'Sabine',
	      'Sven', 'Nina', 'Tobias', 'Claire', 'Pierre', 'Isabelle', 'Nicolas', 'Marta',
	      'Alejandro', 'Elena', 'Roberto', 'Alessandro'] as firsts,
	array['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker',
	      'Hoffmann', 'Schulz', 'Koch', 'Richter', 'Klein', 'Wolf', 'Neumann', 'Schwarz',
	      'Zimmermann', 'Braun', 'Hofmann', 'Hartmann', 'Smith', 'Jones', 'Taylor', 'Brown',
	      'Williams', 'Wilson', 'Johnson', 'Davies', 'Robinson', 'Wright', 'Thompson', 'Evans',
	      'Walker', 'White', 'Roberts', 'Green', 'Hall', 'Wood', 'Jackson', 'Clarke', 'Martin',
	      'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy',
	      'Moreau', 'Simon', 'Laurent', 'Lefebvre', 'Michel', 'García', 'Fernández',
	      'González', 'Rodríguez', 'López', 'Martínez', 'Sánchez', 'Pérez', 'Rossi', 'Russo',
	      'Ferrari', 'Esposito', 'Bianchi', 'Romano', 'Colombo', 'Ricci', 'Marino', 'Greco',
	      'Silva', 'Santos', 'Ferreira', 'Pereira', 'Oliveira', 'Costa', 'Andersson',
	      'Johansson', 'Karlsson', 'Nilsson', 'Eriksson', 'Larsson', 'Olsen', 'Hansen',
	      'Johansen', 'Nielsen', 'Jensen', 'Pedersen', 'Virtanen', 'Korhonen', 'Mäkinen',
	      'de Jong', 'Jansen', 'de Vries', 'van den Berg', 'van Dijk', 'Bakker', 'Visser',
	      'Peeters', 'Janssens', 'Maes', 'Patel', 'Sharma', 'Singh', 'Kumar', 'Chen', 'Wang',
	      'Li', 'Zhang', 'Tanaka', 'Suzuki', 'Kim', 'Park', 'Nguyen', 'Kowalski', 'Nowak',
	      'Novák', 'Horváth', 'Yilmaz', 'Kaya', 'O''Brien', 'Murphy', 'Kelly', 'MacDonald',
	      'Campbell', 'Anderson', 'Miller', 'Davis', 'Moore', 'Fitzgerald', 'Lindqvist',
	      'Bergström', 'Vogel', 'Krüger', 'Lange', 'Brunner', 'Gruber', 'Huber', 'Steiner',
	      'Keller', 'Baumann'] as lasts,
	array['Outside the segment''s size range.', 'No presence in the target region.',
	      'Company was acquired; the parent is already in the list.',
	      'Website unreachable; the company appears to have closed.',
	      'Existing customer: handled by account management.',
	      'Competitor of ours, not a prospect.', 'Below the revenue threshold of the segment.',
	      'Wrong industry for this segment.'] as reasons,
	array['1–10', '11–49', '50–199', '200–499', '500–999', '1,000–4,999', '5,000+'] as sizes,
	array['1M', '5M', '10M', '25M', '50M', '100M', '250M', '500M', '1B'] as revenues;

-- ------------------------------------------------------------------ users

-- The created counts are a small team at 1× and a larger one at 100×.
create temp table b_team as
select role_name, n from (values
	('Researcher', greatest(8, round(8 * sqrt(:scale))::int)),
	('Approver', greatest(2, round(2 * sqrt(:scale))::int)),
	('SDR', greatest(3, round(3 * sqrt(:scale))::int)),
	('Segment Owner', 3),
	('Marketing', 2)) as t (role_name, n);

insert into users (id, email, name, password_hash, created_by, created_at, updated_at)
select md5('spanner-bench-user-' || u.k)::uuid,
       pg_temp.slug(u.first) || '.' || pg_temp.slug(u.last)
	       || case when u.dupe > 1 then u.dupe::text else '' end || '@bench.example',
       u.first || ' ' || u.last,
       (select password_hash from users where lower(email) = 'admin@example.com'),
       (select id from users where lower(email) = 'admin@example.com'),
       now() - interval '760 days' + u.k * interval '1 hour',
       now() - interval '760 days' + u.k * interval '1 hour'
from (
	select x.*, row_number() over (partition by pg_temp.slug(x.first), pg_temp.slug(x.last)
		order by x.k) as dupe
	from (
		select g.k, w.firsts[1 + (g.k * 7) % cardinality(w.firsts)] as first,
		       w.lasts[1 + (g.k * 13) % cardinality(w.lasts)] as last
		from generate_series(1, (select sum(n) from b_team)::int) g (k), b_words w
	) x
) u;

create temp table b_user as
select u.id, t.role_name,
       row_number() over (partition by t.role_name order by u.id) as ord
from (
	select md5('spanner-bench-user-' || k)::uuid as id, k from generate_series(1,
		(select sum(n) from b_team)::int) k
) u
join lateral (
	select role_name from (
		select role_name, sum(n) over (order by role_name) as upto, n from b_team
	) r where u.k <= r.upto and u.k > r.upto - r.n
) t on true;

insert into users (id, email, name, password_hash, created_by, created_at, updated_at)
select md5('spanner-bench-user-approver')::uuid, 'bench.approver@bench.example',
       'Bench Approver', password_hash, id, now() - interval '760 days',
       now() - interval '760 days'
from users where lower(email) = 'admin@example.com';
insert into b_user values (md5('spanner-bench-user-approver')::uuid, 'Approver', 0);

insert into user_roles (user_id, role_id, granted_by, created_at)
select b.id, r.id, (select id from users where lower(email) = 'admin@example.com'),
       now() - interval '760 days'
from b_user b join roles r on r.name = b.role_name;

create temp table b_role_ids as
select role_name, array_agg(id order by ord) as ids from b_user where ord > 0 group by role_name;

-- ------------------------------------------------------------------ segments

insert into segments (id, name, description, status, archived_at, archived_by, created_by,
	created_at, updated_at)
select s.id, s.name, s.description, case when s.archived then 'archived' else 'active' end,
       case when s.archived then now() - interval '90 days' end,
       case when s.archived then o.ids[1] end,
       o.ids[1 + s.ord % cardinality(o.ids)],
       now() - interval '735 days' + s.ord * interval '1 day',
       case when s.archived then now() - interval '90 days'
	    else now() - interval '735 days' + s.ord * interval '1 day' end
from b_segment s, (select ids from b_role_ids where role_name = 'Segment Owner') o;

-- Each segment: three researchers, one approver, one SDR.
insert into assignments (entity_type, entity_id, assigned_to, assigned_by, role_id, created_at,
	updated_at)
select distinct on (s.id, u.id) 'segment', s.id, u.id, o.ids[1], r.id,
       now() - interval '730 days' + s.ord * interval '1 day',
       now() - interval '730 days' + s.ord * interval '1 day'
from b_segment s
cross join lateral (values ('Researcher', 0), ('Researcher', 1), ('Researcher', 2),
	('Approver', 0), ('SDR', 0)) as a (role_name, k)
join b_role_ids t on t.role_name = a.role_name
join roles r on r.name = a.role_name
cross join (select ids from b_role_ids where role_name = 'Segment Owner') o
cross join lateral (select t.ids[1 + (s.ord * 3 + a.k) % cardinality(t.ids)] as id) u
order by s.id, u.id;

-- ------------------------------------------------------------------ drop secondary indexes

create temp table b_indexes as
select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def
from pg_index i
join pg_class t on t.oid = i.indrelid
where t.relname in ('companies', 'contacts', 'audit_logs')
  and t.relnamespace = 'public'::regnamespace
  and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid);

do $$
declare ix record;
begin
	for ix in select name from b_indexes loop
		execute format('drop index %s', ix.name);
	end loop;
end
$$;

-- ------------------------------------------------------------------ companies

-- 97% generated companies; the other 3% are duplicates of some of them (below).
create temp table g_co as
with r as materialized (
	select i, random() as r_seg, random() as r_city, random() as r_ind, random() as r_noun,
	       random() as r_pre, random() as r_q, random() as r_suf, random() as r_legal,
	       random() as r_status, random() as r_age, random() as r_dec, random() as r_sub,
	       random() as r_misc, random() as r_misc2, random() as r_phone, random() as r_who,
	       random() as r_app
	from generate_series(1, :companies - round(:companies * 0.03)::int) i
)
select r.*, md5('spanner-bench-company-' || r.i)::uuid as id, s.id as segment_id,
       c.city, c.state, c.country, c.zip, c.area, k.tz, k.phone, k.currency, k.streets,
       k.number_first, ind.industry, pg_temp.pick(ind.subs, r.r_sub) as sub_industry,
       pg_temp.pick(w.prefixes, r.r_pre) || ' ' || pg_temp.pick(ind.nouns, r.r_noun)
	       || coalesce(' ' || nullif(pg_temp.pick(w.qualifiers, r.r_q), ''), '') as base_name,
       case when r.r_legal < 0.75 then pg_temp.pick(k.suffixes, r.r_suf) end as legal
from r
join b_segment s on s.ord = 1 + floor(power(r.r_seg, 1.6) * 20)::int
join b_seg_city sc on sc.ord = s.ord
join b_city c on c.id = pg_temp.pick(sc.ids, r.r_city)
join b_country k on k.country = c.country
join b_industry ind on ind.industry = pg_temp.pick(s.industries, r.r_ind)
cross join b_words w;

-- Host names: the name without its legal form; later namesakes get a number.
create temp table g_co2 as
select g.*, h.host_base || case when h.n > 1 then h.n::text else '' end as host
from g_co g
join (
	select i, pg_temp.slug(base_name) as host_base,
	       row_number() over (partition by pg_temp.slug(base_name) order by i) as n
	from g_co
) h using (i);

create temp table g_company as
select g.id, g.i,
       g.base_name || coalesce(' ' || g.legal, '') as name,
       case when g.r_misc < 0.05 then null
	    when g.r_misc < 0.55 then 'https://' || g.host || '.example'
	    when g.r_misc < 0.95 then 'https://www.' || g.host || '.example'
	    else 'http://www.' || g.host || '.example/' end as website,
       case when g.r_phone < 0.7 then g.phone || ' ' || g.area || ' ' || pg_temp.digits(3, g.r_misc2)
		|| ' ' || pg_temp.digits(4, g.r_phone) end as phone,
       case when g.r_misc2 < 0.4 then
	       initcap(g.sub_industry) || ' company based in ' || g.city || ', founded in '
	       || (1920 + floor(g.r_app * 100))::int || '.' end as description,
       case when g.r_misc2 > 0.5 then 'https://www.linkedin.com/company/' || g.host end
	       as linkedin_url,
       g.industry, g.sub_industry,
       case when g.r_phone < 0.8 then
	       case when g.number_first
		    then (1 + floor(g.r_misc * 240))::int || ' ' || pg_temp.pick(g.streets, g.r_city)
		    else pg_temp.pick(g.streets, g.r_city) || ' ' || (1 + floor(g.r_misc * 240))::int end
       end as address_street,
       g.city as address_city, g.state as address_state, g.country as address_country,
       case when g.r_phone < 0.8 then g.zip end as address_zip,
       1920 + floor(g.r_app * 100)::int as founded_year,
       case when g.r_misc2 < 0.6 then
	       g.currency || (select w.revenues[1 + floor(g.r_dec * 8)::int] from b_words w) || '–'
	       || g.currency || (select w.revenues[2 + floor(g.r_dec * 8)::int] from b_words w) end
	       as revenue_range,
       case when g.r_misc2 < 0.7 then (select pg_temp.pick(w.sizes, g.r_sub) from b_words w) end
	       as employee_size_range,
       g.segment_id,
       case when g.r_status < 0.6 then 'approved' when g.r_status < 0.9 then 'pending'
	    else 'rejected' end as status,
       case when g.r_status >= 0.9 then (select pg_temp.pick(w.reasons, g.r_dec) from b_words w)
       end as rejection_reason,
       g.r_misc2 < 0.01 as inactive,
       now() - interval '730 days' * g.r_age as created_at,
       g.r_who, g.r_app, g.r_dec
from g_co2 g;

insert into companies (id, name, website, phone, description, linkedin_url, industry,
	sub_industry, address_street, address_city, address_state, address_country, address_zip,
	founded_year, revenue_range, employee_size_range, segment_id, status, rejection_reason,
	status_changed_at, status_changed_by, is_active, created_by, created_at, updated_at)
select c.id, c.name, c.website, c.phone, c.description, c.linkedin_url, c.industry,
       c.sub_industry, c.address_street, c.address_city, c.address_state, c.address_country,
       c.address_zip, c.founded_year, c.revenue_range, c.employee_size_range, c.segment_id,
       c.status, c.rejection_reason, d.changed_at, case when c.status <> 'pending'
	       then pg_temp.pick(a.ids, c.r_app) end,
       not c.inactive, pg_temp.pick(r.ids, c.r_who), c.created_at,
       coalesce(d.changed_at, c.created_at)
from g_company c
cross join (select ids from b_role_ids where role_name = 'Researcher') r
cross join (select ids from b_role_ids where role_name = 'Approver') a
cross join lateral (select case when c.status <> 'pending' then
	least(now() - interval '1 minute', c.created_at + interval '14 days' * c.r_dec
		+ interval '1 hour') end as changed_at) d
order by c.created_at;

-- Duplicates: a later entry of an existing company (same segment and website, the name
-- sometimes typed differently), flagged as the dedup job would flag it. Most wait in the
-- queue; some were rejected as duplicates.
insert into companies (id, name, website, phone, industry, sub_industry, address_city,
	address_state, address_country, segment_id, status, rejection_reason, status_changed_at,
	status_changed_by, is_duplicate, duplicate_of, created_by, created_at, updated_at)
select md5('spanner-bench-company-' || (:companies - round(:companies * 0.03)::int + d.n))::uuid,
       case when d.r < 0.3 then upper(o.name) else o.name end, o.website, o.phone, o.industry,
       o.sub_industry, o.address_city, o.address_state, o.address_country, o.segment_id,
       case when d.r < 0.7 then 'pending' else 'rejected' end,
       case when d.r >= 0.7 then 'Duplicate of an existing company.' end,
       case when d.r >= 0.7 then d.created_at + interval '2 days' end,
       case when d.r >= 0.7 then a.ids[1] end,
       true, o.id, pg_temp.pick(r.ids, d.r2), d.created_at,
       d.created_at + case when d.r >= 0.7 then interval '2 days' else interval '0' end
from (
	select p.id, row_number() over () as n, random() as r, random() as r2,
	       least(now() - interval '3 days', p.created_at + interval '60 days' * random())
		       as created_at
	from (select id, created_at from companies order by random()
	      limit round(:companies * 0.03)::int) p
) d
join companies o on o.id = d.id
cross join (select ids from b_role_ids where role_name = 'Researcher') r
cross join (select ids from b_role_ids where role_name = 'Approver') a
order by d.created_at;

-- ------------------------------------------------------------------ contacts

create temp table g_target as
select row_number() over (order by c.id) as ord, c.id, c.segment_id, c.status_changed_at,
       c.address_city, c.address_state, c.address_country, k.tz, k.phone,
       coalesce(url_host(c.website), pg_temp.slug(c.name) || '.example') as host,
       b.area
from companies c
join b_country k on k.country = c.address_country
join b_city b on b.city = c.address_city and b.country = c.address_country
where c.status = 'approved' and not c.is_duplicate and c.is_active;

create temp table g_contact as
with r as materialized (
	select i, 1 + floor(random() * (select count(*) from g_target))::int as ord,
	       random() as r_first, random() as r_last, random() as r_mail, random() as r_level,
	       random() as r_title, random() as r_status, random() as r_age, random() as r_who,
	       random() as r_phone, random() as r_misc
	from generate_series(1, :contacts - round(:contacts * 0.02)::int) i
)
select r.i, t.id as company_id, t.segment_id, t.status_changed_at, t.address_city,
       t.address_state, t.address_country, t.tz, t.phone, t.host, t.area,
       pg_temp.pick(w.firsts, r.r_first) as first_name,
       pg_temp.pick(w.lasts, r.r_last) as last_name,
       r.r_mail, r.r_level, r.r_title, r.r_status, r.r_age, r.r_who, r.r_phone, r.r_misc
from r
join g_target t using (ord)
cross join b_words w;

insert into contacts (id, first_name, last_name, email, mobile_phone, direct_phone, job_title,
	email_2, email_active_status, lead_source, management_level, address_city, address_state,
	address_country, primary_timezone, linkedin_url, company_id, segment_id, status,
	assigned_sdr_id, status_changed_at, status_changed_by, created_by, created_at, updated_at)
select md5('spanner-bench-contact-' || c.i)::uuid, c.first_name, c.last_name,
       case when c.r_mail < 0.7 then pg_temp.slug(c.first_name) || '.' || pg_temp.slug(c.last_name)
	    when c.r_mail < 0.9 then left(pg_temp.slug(c.first_name), 1) || pg_temp.slug(c.last_name)
	    else pg_temp.slug(c.first_name) end || '@' || c.host,
       case when c.r_phone < 0.6 then c.phone || ' ' || (150 + floor(c.r_misc * 30))::int || ' '
		|| pg_temp.digits(7, c.r_phone) end,
       case when c.r_phone > 0.5 then c.phone || ' ' || c.area || ' ' || pg_temp.digits(3, c.r_age)
		|| ' ' || pg_temp.digits(4, c.r_misc) end,
       l.title,
       case when c.r_misc < 0.15 then pg_temp.slug(c.first_name) || '.' || pg_temp.slug(c.last_name)
		|| '@mail.example' end,
       case when c.r_misc < 0.8 then 'valid' when c.r_misc < 0.93 then 'catch-all'
	    else 'unknown' end,
       (array['LinkedIn', 'ZoomInfo', 'Conference', 'Website', 'Referral', 'Apollo'])
	       [1 + floor(c.r_title * 6)::int],
       l.level, c.address_city, c.address_state, c.address_country, c.tz,
       case when c.r_misc < 0.7 then 'https://www.linkedin.com/in/' || pg_temp.slug(c.first_name)
		|| '-' || pg_temp.slug(c.last_name) || '-' || left(md5(c.i::text), 6) end,
       c.company_id, c.segment_id, s.status,
       case when s.status in ('assigned_to_sdr', 'meeting_scheduled')
	    then pg_temp.pick(sdr.ids, c.r_who) end,
       case when s.status <> 'uploaded' then t.created_at + (now() - t.created_at) * 0.3 * c.r_misc end,
       case when s.status = 'meeting_scheduled' then pg_temp.pick(sdr.ids, c.r_who)
	    when s.status <> 'uploaded' then pg_temp.pick(a.ids, c.r_who) end,
       pg_temp.pick(rs.ids, c.r_who), t.created_at,
       case when s.status <> 'uploaded' then t.created_at + (now() - t.created_at) * 0.3 * c.r_misc
	    else t.created_at end
from g_contact c
cross join lateral (select c.status_changed_at + (now() - c.status_changed_at) * c.r_age
	as created_at) t
cross join lateral (select case when c.r_status < 0.35 then 'uploaded'
	when c.r_status < 0.70 then 'approved' when c.r_status < 0.90 then 'assigned_to_sdr'
	else 'meeting_scheduled' end as status) s
cross join lateral (
	select case when c.r_level < 0.10 then 'C-Level' when c.r_level < 0.25 then 'VP'
		    when c.r_level < 0.50 then 'Director' when c.r_level < 0.80 then 'Manager'
		    else 'Individual Contributor' end as level,
	       case when c.r_level < 0.10 then (array['Chief Executive Officer',
			'Chief Operating Officer', 'Chief Financial Officer', 'Chief Technology Officer',
			'Chief Marketing Officer', 'Chief Information Officer'])[1 + floor(c.r_title * 6)::int]
		    when c.r_level < 0.25 then (array['VP Sales', 'VP Operations', 'VP Engineering',
			'VP Marketing', 'VP Supply Chain'])[1 + floor(c.r_title * 5)::int]
		    when c.r_level < 0.50 then (array['Director of IT', 'Director of Procurement',
			'Director of Operations', 'Head of Logistics', 'Head of Digital',
			'Head of Finance'])[1 + floor(c.r_title * 6)::int]
		    when c.r_level < 0.80 then (array['IT Manager', 'Operations Manager',
			'Procurement Manager', 'Plant Manager', 'Marketing Manager',
			'Facilities Manager'])[1 + floor(c.r_title * 6)::int]
		    else (array['Senior Buyer', 'Systems Engineer', 'Business Analyst',
			'Account Executive', 'Data Analyst'])[1 + floor(c.r_title * 5)::int] end as title
) l
cross join (select ids from b_role_ids where role_name = 'Researcher') rs
cross join (select ids from b_role_ids where role_name = 'Approver') a
cross join (select ids from b_role_ids where role_name = 'SDR') sdr
order by t.created_at;

-- Duplicate contacts: the same person entered again later at the same company.
insert into contacts (id, first_name, last_name, email, job_title, management_level,
	address_city, address_state, address_country, primary_timezone, company_id, segment_id,
	status, is_duplicate, duplicate_of, created_by, created_at, updated_at)
select md5('spanner-bench-contact-' || (:contacts - round(:contacts * 0.02)::int + d.n))::uuid,
       o.first_name, o.last_name, o.email, o.job_title,
       o.management_level, o.address_city, o.address_state, o.address_country,
       o.primary_timezone, o.company_id, o.segment_id, 'uploaded', true, o.id,
       pg_temp.pick(r.ids, d.r), d.created_at, d.created_at
from (
	select p.id, row_number() over () as n, random() as r,
	       p.created_at + (now() - p.created_at) * random() as created_at
	from (select id, created_at from contacts order by random()
	      limit round(:contacts * 0.02)::int) p
) d
join contacts o on o.id = d.id
cross join (select ids from b_role_ids where role_name = 'Researcher') r
order by d.created_at;

-- ------------------------------------------------------------------ audit trail

insert into audit_logs (actor_id, action, entity_type, entity_id, details, created_at)
select c.created_by, 'create', 'company', c.id,
       jsonb_strip_nulls(jsonb_build_object('name', c.name, 'segment_id', c.segment_id,
	       'website', c.website)),
       c.created_at
from companies c
union all
select c.status_changed_by, case c.status when 'approved' then 'approve' else 'reject' end,
       'company', c.id,
       jsonb_strip_nulls(jsonb_build_object('name', c.name, 'reason', c.rejection_reason)),
       c.status_changed_at
from companies c where c.status <> 'pending'
union all
select ct.created_by, 'create', 'contact', ct.id,
       jsonb_build_object('name', ct.first_name || ' ' || ct.last_name, 'email', ct.email,
	       'company_id', ct.company_id),
       ct.created_at
from contacts ct
order by 6;

-- ------------------------------------------------------------------ indexes back

do $$
declare ix record;
begin
	for ix in select def from b_indexes order by name loop
		execute ix.def;
	end loop;
end
$$;

reset session_replication_role;
-- The stored counts (0012) are kept by triggers, which the bulk load ran without.
select counts_rebuild();

select (select count(*) from segments) as segments,
       (select count(*) from companies) as companies,
       (select count(*) from companies where status = 'approved') as approved,
       (select count(*) from companies where status = 'pending') as pending,
       (select count(*) from companies where status = 'rejected') as rejected,
       (select count(*) from companies where is_duplicate) as dup_companies,
       (select count(*) from contacts) as contacts,
       (select count(*) from contacts where is_duplicate) as dup_contacts,
       (select count(*) from users) as users,
       (select count(*) from audit_logs) as audit_rows;
