/*
 * Linked into the LLRT build by scripts/install/llrt.sh (-Wl,--wrap=hypot): binds hypot to glibc's first
 * version of it instead of the GLIBC_2.35 one that newer glibc headers select, the engine's only symbol newer
 * than glibc 2.34, so it loads on Lambda's Amazon Linux 2023 (glibc 2.34). HYPOT_BASE_VERSION is the
 * architecture's first glibc ABI (GLIBC_2.2.5 on x86_64, GLIBC_2.17 on aarch64).
 */
#define STR2(x) #x
#define STR(x) STR2(x)
__asm__(".symver hypot_base, hypot@" STR(HYPOT_BASE_VERSION));
double hypot_base(double x, double y);
double __wrap_hypot(double x, double y) { return hypot_base(x, y); }
