fn main() {
    #[cfg(fuzzing)]
    afl::fuzz!(|data: &[u8]| xhuma_fuzz::ccda(data));
    #[cfg(not(fuzzing))]
    xhuma_fuzz::replay(xhuma_fuzz::ccda);
}
