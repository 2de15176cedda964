/* placeholder */
#include <gst/check/gstcheck.h>
int main() { return 77; }
