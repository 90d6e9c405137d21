/*
 * A second DuckDB client: a plain C program on DuckDB's C API (libduckdb.so) that LOADs duckton.duckdb_extension,
 * joins a running grid and runs a verified remote query (replicas 3, quorum 2, prefer remote).
 * Prints "key=value" lines (one per fact) for the test to read; exits 0 when every step ran, 1 otherwise.
 * Usage: grid_client <extension> <seed> <hosts>
 * Only the few C API declarations it uses are written out here (libduckdb ships without its header in this repo).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint64_t idx_t;
typedef struct { void *internal_ptr; } *duckdb_database;
typedef struct { void *internal_ptr; } *duckdb_connection;
typedef struct { void *internal_ptr; } *duckdb_config;
/* duckdb_result as declared by duckdb.h (48 bytes; only read through API functions). */
typedef struct {
    idx_t deprecated_column_count;
    idx_t deprecated_row_count;
    idx_t deprecated_rows_changed;
    void *deprecated_columns;
    char *deprecated_error_message;
    void *internal_data;
} duckdb_result;
typedef int duckdb_state; /* 0 success, 1 error */

duckdb_state duckdb_create_config(duckdb_config *config);
duckdb_state duckdb_set_config(duckdb_config config, const char *name, const char *option);
void duckdb_destroy_config(duckdb_config *config);
duckdb_state duckdb_open_ext(const char *path, duckdb_database *db, duckdb_config config, char **error);
duckdb_state duckdb_connect(duckdb_database db, duckdb_connection *connection);
void duckdb_disconnect(duckdb_connection *connection);
void duckdb_close(duckdb_database *db);
duckdb_state duckdb_query(duckdb_connection connection, const char *query, duckdb_result *result);
void duckdb_destroy_result(duckdb_result *result);
const char *duckdb_result_error(duckdb_result *result);
idx_t duckdb_row_count(duckdb_result *result);
idx_t duckdb_column_count(duckdb_result *result);
const char *duckdb_column_name(duckdb_result *result, idx_t col);
int duckdb_column_type(duckdb_result *result, idx_t col);
char *duckdb_value_varchar(duckdb_result *result, idx_t col, idx_t row);
void duckdb_free(void *ptr);

static duckdb_connection con;

/* Runs SQL; on error prints it and exits 1. The caller destroys the result. */
static void run(const char *sql, duckdb_result *result) {
    if (duckdb_query(con, sql, result) != 0) {
        printf("error=%s\n", duckdb_result_error(result));
        fprintf(stderr, "grid_client: %s\n  failed: %s\n", sql, duckdb_result_error(result));
        duckdb_destroy_result(result);
        exit(1);
    }
}

/* The value of the row whose second-to-last column equals key (the key/value tables), or NULL; free with duckdb_free. */
static char *lookup(duckdb_result *result, const char *key) {
    idx_t columns = duckdb_column_count(result);
    for (idx_t row = 0; row < duckdb_row_count(result); row++) {
        char *k = duckdb_value_varchar(result, columns - 2, row);
        int match = k != NULL && strcmp(k, key) == 0;
        duckdb_free(k);
        if (match) {
            return duckdb_value_varchar(result, columns - 1, row);
        }
    }
    return NULL;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: grid_client <extension> <seed> <hosts>\n");
        return 2;
    }
    const char *extension = argv[1], *seed = argv[2];
    int hosts = atoi(argv[3]);
    char sql[4096];

    duckdb_config config;
    duckdb_database db;
    char *open_error = NULL;
    duckdb_create_config(&config);
    duckdb_set_config(config, "allow_unsigned_extensions", "true");
    if (duckdb_open_ext(":memory:", &db, config, &open_error) != 0) {
        fprintf(stderr, "grid_client: open failed: %s\n", open_error ? open_error : "?");
        return 1;
    }
    duckdb_destroy_config(&config);
    duckdb_connect(db, &con);

    duckdb_result r;
    snprintf(sql, sizeof sql, "LOAD '%s'", extension);
    run(sql, &r);
    duckdb_destroy_result(&r);

    snprintf(sql, sizeof sql, "SELECT key, value FROM p2p_join(bootstrap => ['%s'])", seed);
    run(sql, &r);
    duckdb_destroy_result(&r);

    /* The join's one gossip round may not learn every host; gossip goes on in the background. */
    int live = 0;
    char *gossip_error = NULL;
    double start = now_ms();
    for (;;) {
        run("SELECT key, value FROM p2p_status()", &r);
        char *v = lookup(&r, "peers_live");
        live = v ? atoi(v) : 0;
        duckdb_free(v);
        duckdb_free(gossip_error);
        gossip_error = lookup(&r, "last_gossip_error");
        duckdb_destroy_result(&r);
        if (live >= hosts || now_ms() - start > 60000) {
            break;
        }
        struct timespec pause = {0, 250 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    printf("peers_live=%d\nlast_gossip_error=%s\n", live, gossip_error ? gossip_error : "");
    duckdb_free(gossip_error);
    if (live < hosts) {
        return 1;
    }

    const char *remote = "replicas => 3, quorum => 2, prefer => 'remote'";
    snprintf(sql, sizeof sql,
             "SELECT * FROM p2p_query('SELECT i::INTEGER AS i, ''row-'' || i AS label FROM range(4) t(i) ORDER BY i', %s)", remote);
    run(sql, &r);
    for (idx_t c = 0; c < duckdb_column_count(&r); c++) {
        printf("column=%s:%d\n", duckdb_column_name(&r, c), duckdb_column_type(&r, c));
    }
    for (idx_t row = 0; row < duckdb_row_count(&r); row++) {
        char *a = duckdb_value_varchar(&r, 0, row), *b = duckdb_value_varchar(&r, 1, row);
        printf("row=%s|%s\n", a, b);
        duckdb_free(a);
        duckdb_free(b);
    }
    duckdb_destroy_result(&r);

    snprintf(sql, sizeof sql, "SELECT key, value FROM p2p_query_meta('SELECT 6 * 7 AS answer', %s)", remote);
    run(sql, &r);
    for (idx_t row = 0; row < duckdb_row_count(&r); row++) {
        char *k = duckdb_value_varchar(&r, 0, row), *v = duckdb_value_varchar(&r, 1, row);
        printf("meta.%s=%s\n", k, v ? v : "");
        duckdb_free(k);
        duckdb_free(v);
    }
    duckdb_destroy_result(&r);

    duckdb_disconnect(&con);
    duckdb_close(&db);
    printf("done=1\n");
    return 0;
}
