//! The workspace's own `uniffi-bindgen`, so generated Kotlin and Swift always match the
//! uniffi version the library was built with.

fn main() {
    uniffi::uniffi_bindgen_main()
}
