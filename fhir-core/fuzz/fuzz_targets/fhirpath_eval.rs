#![no_main]

libfuzzer_sys::fuzz_target!(init: fhir_core_fuzz::init(), |data: &[u8]| fhir_core_fuzz::fhirpath_eval(data));
