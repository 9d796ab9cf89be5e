#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fhir_core_fuzz::json_parse(data));
