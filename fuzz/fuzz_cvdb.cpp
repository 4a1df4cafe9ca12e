// The CVDB reader (plugins/datasets/cvdb): the CSV reader and the table rules on top of it.
// Input: one byte choosing the encoding (even: ISO-8859-1, odd: UTF-8), then the CSV file.
#include <stdexcept>

#include "cvdb_table.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto encoding = (data[0] & 1) ? cvdb::Encoding::Utf8 : cvdb::Encoding::Latin1;
  const std::string& path = fuzz::write_input(data + 1, size - 1, "cvdb.csv");
  // The bare reader: every record.
  try {
    cvdb::CsvReader reader(path, encoding);
    std::vector<std::string> fields;
    while (reader.next(fields)) (void)reader.line();
  } catch (const std::runtime_error& e) {
    fuzz::check_message(e.what());
  }
  // The table: columns, row rules, most read, questions.
  try {
    const cvdb::Table table = cvdb::read_table(path, encoding);
    cvdb::DropCounts dropped = table.dropped;
    const auto people = cvdb::most_read(table.people, 3, dropped);
    for (const auto& p : people) (void)cvdb::to_entity(p);
  } catch (const std::runtime_error& e) {
    fuzz::check_message(e.what());
  }
  return 0;
}
