// dns2 ships no types; the tests use its server and packet builder only (test/helpers/dns.ts).
declare module 'dns2';
