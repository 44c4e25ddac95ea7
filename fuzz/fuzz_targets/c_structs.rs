#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: _colbridge::fuzzing::abort_on_own_panics(),
    |data: &[u8]| _colbridge::fuzzing::c_structs(data)
);
