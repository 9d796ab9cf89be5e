#![no_main]

libfuzzer_sys::fuzz_target!(init: fhir_server_fuzz::init(), |data: &[u8]| fhir_server_fuzz::transaction_parse(data));
