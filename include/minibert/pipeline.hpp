// Text in, answers out: the task pipelines on top of Model + Tokenizer.
//   Classifier        text / pair -> label and probabilities
//   Embedder          text -> sentence embedding (the folder's pooling and normalisation)
//   TokenTagger       text -> entities with spans (none / simple / first aggregation)
//   QuestionAnswerer  question + context -> answer span (long contexts in strided windows)
//   Reranker          query + passages -> relevance scores, best first (cross-encoders)
#pragma once

#include "pipelines/classifier.hpp"
#include "pipelines/embedder.hpp"
#include "pipelines/question_answerer.hpp"
#include "pipelines/reranker.hpp"
#include "pipelines/token_tagger.hpp"
