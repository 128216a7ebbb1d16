// The version ferryctl prints; one place for the tools library.
namespace ferry {
const char* ToolsVersion() { return "0.1.0"; }
}  // namespace ferry
