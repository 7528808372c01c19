"""The lectures' models: definitions (`zoo.models`), data (`zoo.data`, `zoo.corpora`) and training
(`zoo.train`). This package file imports nothing heavy, so `zoo.corpora` serves without torch."""
