// Reading triples from the T-REx dump or from a pre-extracted triplet file.
//
// Formats (chosen by `format`, or by file extension when it is "auto"):
//   trex_json       (.json)   the T-REx dump: a JSON list of documents, each with "triples";
//                             a triple has "subject", "predicate" and "object" objects with
//                             "surfaceform" and "uri" (the predicate's uri ends in its property
//                             id, e.g. http://www.wikidata.org/prop/direct/P50).
//   triplets_jsonl  (.jsonl)  one JSON object a line:
//                             {"subject": "Dune", "predicate": "P50", "object": "Frank Herbert"}
//                             with an optional "subject_uri".
//   triplets_tsv    (.tsv)    subject<TAB>predicate<TAB>object[<TAB>subject_uri] a line; blank
//                             lines and lines starting with '#' are skipped, as is a first line
//                             starting with "subject<TAB>predicate".
// A predicate may be an id ("P50") or a URI ending in one. Files are read as UTF-8 whatever the
// locale; malformed input throws std::runtime_error naming the file and the record or line.
#pragma once
#include <string>
#include <vector>

#include "triple_store.hpp"

namespace trex {

enum class Format { Auto, TrexJson, TripletsJsonl, TripletsTsv };

// Throws std::invalid_argument for an unknown format name.
Format parse_format(const std::string& name);

// The files to read, in order: each configured path (relative ones resolved against
// `base_dir`) is a file, or a folder whose .json/.jsonl/.tsv files are read in byte order of
// their names (the dump's re-nlg_*.json files, as the reference sorts them). Throws
// std::runtime_error for a path that does not exist or a folder without such files.
std::vector<std::string> resolve_inputs(const std::vector<std::string>& paths,
                                        const std::string& base_dir);

// Reads every triple of `file` into `store`.
void read_triples(const std::string& file, Format format, TripleStore& store);

// "P50" for "P50", ".../prop/direct/P50" or ".../entity/P50c" (the T-REx pipeline's
// coreference marker); "" if `uri` does not end in a property id.
std::string predicate_id(const std::string& uri);

}  // namespace trex
