-- One database per service: each service owns its database and no other service reads it
-- (DESIGN.md). Run once by the postgres image's entrypoint, as the POSTGRES_USER (kairos),
-- when the data volume is empty; `docker compose down -v` starts it over.
-- Each service applies its own SQL migrations inside its database at start-up.
CREATE DATABASE identity OWNER kairos;
CREATE DATABASE habilitation OWNER kairos;
CREATE DATABASE declaration OWNER kairos;
CREATE DATABASE notification OWNER kairos;
