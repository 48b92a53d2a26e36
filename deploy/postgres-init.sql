-- One database per role (each role migrates its own on start); run once by the postgres image.
CREATE DATABASE registry OWNER workcred;
CREATE DATABASE issuer OWNER workcred;
CREATE DATABASE wallet OWNER workcred;
CREATE DATABASE verifier OWNER workcred;
