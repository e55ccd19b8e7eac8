--
-- PostgreSQL database dump (shape of pg_dump's plain output)
--
SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE TABLE public.items (id integer NOT NULL, name text, note text);
COPY public.items (id, name, note) FROM stdin;
1	widget; DROP TABLE items;	it's
2	'quoted'	$$ not a dollar quote
3	/* not a comment	-- nor this
4	\.x is data	\N
5	back\\slash	tab\there
\.
COPY public.empty (id) FROM stdin;
\.
SELECT pg_catalog.setval('public.items_id_seq', 5, true);
COPY public.csv_items (id, name) FROM stdin WITH (FORMAT csv);
6,"a;b"
7,"c""d"
\.
ALTER TABLE ONLY public.items ADD CONSTRAINT items_pkey PRIMARY KEY (id);
COPY public.items TO STDOUT;
COPY (SELECT 1) TO STDOUT WITH (FORMAT csv);
