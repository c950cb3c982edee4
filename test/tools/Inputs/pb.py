"""Small TensorProto (.pb) helper for the kiln run tests.

  pb.py set IN OUT FLAT_INDEX VALUE     copy IN with one element replaced
  pb.py zeros OUT NAME DTYPE D0,D1,...  write a zero tensor (DTYPE: numpy name)
  pb.py values OUT NAME DTYPE V0,V1,...  write a 1-D tensor ("scalar:V" for a scalar)
  pb.py cast IN OUT DTYPE               copy IN converted to another dtype
  pb.py show FILE                       print name, dtype and shape
  pb.py close A B RTOL ATOL             exit 1 unless A and B have the same
                                        name, dtype and shape and allclose
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def load(path):
    t = onnx.load_tensor(path)
    return t.name, numpy_helper.to_array(t)


def save(path, name, array):
    onnx.save_tensor(numpy_helper.from_array(array, name), path)


cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "set":
    name, a = load(args[0])
    a = a.copy()
    a.reshape(-1)[int(args[2])] = float(args[3])
    save(args[1], name, a)
elif cmd == "zeros":
    shape = [int(d) for d in args[3].split(",")] if args[3] else []
    save(args[0], args[1], np.zeros(shape, dtype=np.dtype(args[2])))
elif cmd == "values":
    text = args[3]
    scalar = text.startswith("scalar:")
    values = [float(v) for v in text.removeprefix("scalar:").split(",")]
    a = np.array(values[0] if scalar else values, dtype=np.dtype(args[2]))
    save(args[0], args[1], a)
elif cmd == "cast":
    name, a = load(args[0])
    save(args[1], name, a.astype(np.dtype(args[2])))
elif cmd == "show":
    name, a = load(args[0])
    print("name=%s dtype=%s shape=%s" % (name, a.dtype, list(a.shape)))
elif cmd == "close":
    (na, a), (nb, b) = load(args[0]), load(args[1])
    ok = (na == nb and a.dtype == b.dtype and a.shape == b.shape
          and np.allclose(a, b, rtol=float(args[2]), atol=float(args[3])))
    print("close" if ok else "differ: %s %s %s vs %s %s %s" % (
        na, a.dtype, a.shape, nb, b.dtype, b.shape))
    sys.exit(0 if ok else 1)
else:
    sys.exit("unknown command " + cmd)
