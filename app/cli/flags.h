// How the command line names the fields core errors speak of (Field::BucketCount is
// --buckets): one table for every subcommand, the same option name everywhere, with a
// subcommand's own overrides where its option differs (report writes --html, not --out).
#pragma once

#include "core/util/error.h"

#include <map>
#include <string>

namespace bucketlab::cli {

using FlagNames = std::map<Field, std::string>;

// The option for `field` ("--buckets"), from `overrides` first.
std::string flagFor(Field field, const FlagNames& overrides = {});

// The error's message with every field named by its option.
std::string cliMessage(const Error& error, const FlagNames& overrides = {});

} // namespace bucketlab::cli
