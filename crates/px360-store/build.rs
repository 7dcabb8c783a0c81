// `sqlx::migrate!` embeds the migration files at compile time, but cargo does not know about them:
// without this, a new migration file is silently missing from incremental builds.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
