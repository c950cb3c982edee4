/*===- main.c - Example: a compiled model from C ---------------------------===//
 *
 *   cnn_classifier_c [INPUT.raw EXPECTED.raw]
 *
 * The C counterpart of main.cpp, through the generated cnn_c.h: creates the
 * `cnn` model from its embedded weights, shows the error path (a tensor of
 * the wrong shape is refused with a message), runs it and, given two raw
 * little-endian float32 files, checks the result (rtol 1e-3, atol 1e-4).
 *
 *===----------------------------------------------------------------------===*/

#include "cnn_c.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int read_raw(const char *path, float *out, size_t count) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  size_t got = fread(out, sizeof(float), count, f);
  int at_end = fgetc(f) == EOF;
  fclose(f);
  return got == count && at_end;
}

int main(int argc, char **argv) {
  static float x[1 * 3 * 32 * 32], y[10], expected[10];
  char error[256];
  if (argc == 3) {
    if (!read_raw(argv[1], x, 1 * 3 * 32 * 32) || !read_raw(argv[2], expected, 10)) {
      fprintf(stderr, "cannot read %s / %s\n", argv[1], argv[2]);
      return 1;
    }
  } else {
    for (size_t i = 0; i < sizeof x / sizeof x[0]; ++i)
      x[i] = sinf(0.1f * (float)i);
  }

  /* The model's interface, as the header's comment describes it. */
  kiln_tensor_info info;
  if (cnn_num_inputs() != 1 || cnn_input_info(0, &info) != 0 || info.dtype != KILN_DTYPE_FLOAT32 ||
      info.rank != 4) {
    fprintf(stderr, "unexpected model interface\n");
    return 1;
  }

  void *model = cnn_create_embedded(/*threads=*/2, error, sizeof error);
  if (!model) {
    fprintf(stderr, "%s\n", error);
    return 1;
  }

  kiln_tensor input = {KILN_DTYPE_FLOAT32, 4, {1, 3, 32, 32}, x};
  kiln_tensor output = {KILN_DTYPE_FLOAT32, 2, {1, 10}, y};

  /* The error path: a wrong shape is refused, with a message. */
  kiln_tensor wrong = input;
  wrong.dims[2] = 31;
  if (cnn_run(model, &wrong, 1, &output, 1, error, sizeof error) == 0) {
    fprintf(stderr, "a wrong input shape was accepted\n");
    return 1;
  }
  printf("wrong shape refused: %s\n", error);

  if (cnn_run(model, &input, 1, &output, 1, error, sizeof error) != 0) {
    fprintf(stderr, "%s\n", error);
    cnn_destroy(model);
    return 1;
  }
  cnn_destroy(model);

  size_t best = 0;
  for (size_t i = 0; i < 10; ++i) {
    printf("score[%zu] = %.6f\n", i, y[i]);
    if (y[i] > y[best])
      best = i;
  }
  printf("class %zu\n", best);
  if (argc == 3) {
    for (size_t i = 0; i < 10; ++i)
      if (!(fabsf(y[i] - expected[i]) <= 1e-4f + 1e-3f * fabsf(expected[i]))) {
        fprintf(stderr, "mismatch at %zu: got %.9g, expected %.9g\n", i, y[i], expected[i]);
        return 1;
      }
    printf("matches expected output\n");
  }
  return 0;
}
