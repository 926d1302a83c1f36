int al_placeholder(void) { return 0; }
