//===- RecurrentOps.h - Handlers for RNN, GRU and LSTM --------------------===//

#ifndef KILN_LIB_IMPORT_RECURRENTOPS_H
#define KILN_LIB_IMPORT_RECURRENTOPS_H

namespace kiln::import {
class Importer;
void importRnn(Importer &im);
void importGru(Importer &im);
void importLstm(Importer &im);
} // namespace kiln::import

#endif // KILN_LIB_IMPORT_RECURRENTOPS_H
