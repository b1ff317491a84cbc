/* placeholder */ typedef int sentinel_placeholder_t;
