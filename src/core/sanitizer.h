/*
 * core/sanitizer.h - AddressSanitizer poisoning hooks that compile to
 * nothing in builds without ASan. Used by the pool and the arena (lwan's
 * arena habit) so that memory we keep for reuse is still checked.
 */
#ifndef HR_CORE_SANITIZER_H
#define HR_CORE_SANITIZER_H

#if defined(__SANITIZE_ADDRESS__)
#define HR_HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HR_HAVE_ASAN 1
#endif
#endif

#ifdef HR_HAVE_ASAN
#include <sanitizer/asan_interface.h>
#define HR_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define HR_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define HR_POISON(p, n) ((void)(p), (void)(n))
#define HR_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#endif
