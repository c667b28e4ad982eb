/* simd.h - the only place that knows about vector instructions (internal).
 *
 * Kernels are written once against these macros: PV_W floats per vector,
 * pv_load/pv_store (unaligned), pv_add, pv_mul, pv_set1, pv_max, pv_gt_mask
 * (1.0f where a > b else 0), pv_select. Only element-wise operations exist
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
#else
#define PRIME_SIMD_NAME "scalar"
#define PV_W 1
#define PRIME_SCALAR 1
#endif

#endif
