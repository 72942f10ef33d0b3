/*
 * bench/bench.h - what the files of the benchmark program share.
 *
 * build/hearth-bench is bench.c (the engine behind the public API), te.c
 * (TechEmpower's database tests on hearth's storage interface) and seed.c
 * (the deterministic data set of the records benchmarks). Only te.c and
 * seed.c reach below include/hearth.h, into src/db/db.h: the records and
 * database workloads measure that layer on purpose.
 */
#ifndef HEARTH_BENCH_H
#define HEARTH_BENCH_H

#include "hearth.h"

typedef struct te_state te_state;

/*
 * Opens the SQLite file `path` as a store for TechEmpower tests 2, 3 and 5.
 * It must hold table world(id INTEGER PRIMARY KEY, randomNumber INTEGER)
 * (`hearth-bench seed` writes one). `workers` is the number of worker
 * threads the server will run; te_open sets cfg's worker hooks, which
 * attach each worker's read connection on its own thread. Call before
 * hearth_server_new(); main thread. Returns 0 and *out, or a negative code
 * (*why says what failed).
 */
int te_open(const char *path, unsigned workers, hearth_config *cfg, te_state **out,
	    const char **why);

/* Adds GET /db, /queries and /updates. Before hearth_server_start(). */
int te_register(hearth_server *s, te_state *t);

/* Closes the store. After hearth_server_wait(); NULL is ignored. */
void te_free(te_state *t);

/*
 * `hearth-bench seed ...`: writes the records data set into an existing
 * hearth data.db and/or a TechEmpower world file. argv[0] is "seed".
 * Returns the process exit status. Main thread, nothing else running.
 */
int seed_main(int argc, char **argv);

#endif
