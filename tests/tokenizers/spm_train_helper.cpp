// Trains a SentencePiece model: spm_train_helper '<trainer flags>' (libsentencepiece's
// SentencePieceTrainer::Train). Run by test_tokenizers, which cannot link libsentencepiece.
#include <sentencepiece_trainer.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: spm_train_helper '<trainer flags>'\n";
    return 2;
  }
  const auto status = sentencepiece::SentencePieceTrainer::Train(argv[1]);
  if (!status.ok()) {
    std::cerr << status.ToString() << "\n";
    return 1;
  }
  return 0;
}
