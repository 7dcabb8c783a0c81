//! CPU-heavy work off the async workers, so a few expensive requests cannot starve
//! `/health/live` and the cheap requests.
//!
//! [`heavy`] runs a closure with `tokio::task::block_in_place`: the runtime hands this
//! worker's other tasks to a fresh worker thread while the closure runs, and the closure may
//! borrow the request body (no copy, unlike `spawn_blocking`). At most as many such closures
//! run at once as there are CPUs (an async semaphore, so waiting costs no thread); small
//! inputs are parsed in place, since handing a worker over costs more than parsing a few KB.
//! On a current-thread runtime (unit tests) the closure simply runs in place.

use std::sync::LazyLock;

use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::Semaphore;

/// Inputs smaller than this are handled in place.
pub(crate) const HEAVY_INPUT_BYTES: usize = 32 * 1024;

static SLOTS: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(
        std::thread::available_parallelism()
            .map(std::num::NonZero::get)
            .unwrap_or(2),
    )
});

/// Runs `f`, which works on an input of `input_len` bytes, where it cannot block the runtime.
pub(crate) async fn heavy<R>(input_len: usize, f: impl FnOnce() -> R) -> R {
    if input_len < HEAVY_INPUT_BYTES
        || !matches!(
            Handle::try_current().map(|h| h.runtime_flavor()),
            Ok(RuntimeFlavor::MultiThread)
        )
    {
        return f();
    }
    // The semaphore is never closed; if it were, running unbounded is still correct.
    let _slot = SLOTS.acquire().await.ok();
    metrics::counter!("xhuma_offloaded_parses_total").increment(1);
    tokio::task::block_in_place(f)
}
