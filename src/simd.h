/* simd.h - the only place that knows about vector instructions (internal).
 *
 * Kernels are written once against these macros: PV_W floats per vector,
 * pv_load/pv_store (unaligned), pv_add, pv_sub, pv_mul, pv_div, pv_sqrt,
 * pv_floor, pv_min, pv_max, pv_set1, pv_gt (lane mask), pv_select, pv_and. All are IEEE
 * correctly rounded (or exact), like their scalar counterparts. Only element-wise operations exist
 * here, never horizontal sums, so the SIMD and scalar builds compute every
 * float with the same operations in the same order: identical results.
 * -DPRIME_NO_SIMD forces the scalar mapping (the reference build).
 */
#ifndef PRIME_SIMD_H
#define PRIME_SIMD_H

#if !defined(PRIME_NO_SIMD) && defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define PRIME_SIMD_NAME "wasm-simd128"
#define PV_W 4
typedef v128_t pv;
#define pv_load(p) wasm_v128_load(p)
#define pv_store(p, v) wasm_v128_store((p), (v))
#define pv_add(a, b) wasm_f32x4_add((a), (b))
#define pv_mul(a, b) wasm_f32x4_mul((a), (b))
#define pv_set1(x) wasm_f32x4_splat(x)
#define pv_gt(a, b) wasm_f32x4_gt((a), (b))           /* lane mask */
#define pv_select(m, a, b) wasm_v128_bitselect((a), (b), (m)) /* m ? a : b */
#define pv_and(a, b) wasm_v128_and((a), (b))
#define pv_sub(a, b) wasm_f32x4_sub((a), (b))
#define pv_div(a, b) wasm_f32x4_div((a), (b))
#define pv_sqrt(a) wasm_f32x4_sqrt(a)
#define pv_floor(a) wasm_f32x4_floor(a)
#define pv_min(a, b) wasm_f32x4_pmin((b), (a)) /* a < b ? a : b */
#define pv_max(a, b) wasm_f32x4_pmax((b), (a)) /* a > b ? a : b */
#elif !defined(PRIME_NO_SIMD) && (defined(__SSE2__) || defined(_M_X64))
#include <emmintrin.h>
#define PRIME_SIMD_NAME "sse2"
#define PV_W 4
typedef __m128 pv;
#define pv_load(p) _mm_loadu_ps(p)
#define pv_store(p, v) _mm_storeu_ps((p), (v))
#define pv_add(a, b) _mm_add_ps((a), (b))
#define pv_mul(a, b) _mm_mul_ps((a), (b))
#define pv_set1(x) _mm_set1_ps(x)
#define pv_gt(a, b) _mm_cmpgt_ps((a), (b))
#define pv_select(m, a, b) _mm_or_ps(_mm_and_ps((m), (a)), _mm_andnot_ps((m), (b)))
#define pv_and(a, b) _mm_and_ps((a), (b))
#define pv_sub(a, b) _mm_sub_ps((a), (b))
#define pv_div(a, b) _mm_div_ps((a), (b))
#define pv_sqrt(a) _mm_sqrt_ps(a)
#define pv_min(a, b) _mm_min_ps((a), (b)) /* a < b ? a : b (no NaN here) */
#define pv_max(a, b) _mm_max_ps((a), (b)) /* a > b ? a : b */
/* floor without SSE4.1: truncate, then step down where that rounded up.
 * Exact for |a| < 2^31 (callers clamp first). */
static inline __m128 pv_floor(__m128 a) {
    __m128 t = _mm_cvtepi32_ps(_mm_cvttps_epi32(a));
    return _mm_sub_ps(t, _mm_and_ps(_mm_cmpgt_ps(t, a), _mm_set1_ps(1.0f)));
}
#else
#define PRIME_SIMD_NAME "scalar"
#define PV_W 1
#define PRIME_SCALAR 1
#endif

#endif
