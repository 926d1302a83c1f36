#pragma once
int al_placeholder(void);
