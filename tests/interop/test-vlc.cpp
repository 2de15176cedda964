#include "interop.h"
int main() { return 77; }
