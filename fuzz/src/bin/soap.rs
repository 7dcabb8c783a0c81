fn main() {
    #[cfg(fuzzing)]
    afl::fuzz!(|data: &[u8]| xhuma_fuzz::soap(data));
    #[cfg(not(fuzzing))]
    xhuma_fuzz::replay(xhuma_fuzz::soap);
}
