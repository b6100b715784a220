// minibert: BERT-family encoders on a plain CPU, header-only C++17.
//
// The one include most users need:
//   auto model = minibert::Model::load("path/to/hf-folder");
//   minibert::Session session(model, {/*threads*/ 2});
//   minibert::Batch batch;  batch.add({101, 7592, 102});
//   minibert::Outputs out = session.run(batch);
#pragma once

#include "batch.hpp"
#include "config.hpp"
#include "error.hpp"
#include "model.hpp"
#include "pipeline.hpp"
#include "session.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/tokenizer_pipeline.hpp"
#include "version.hpp"
