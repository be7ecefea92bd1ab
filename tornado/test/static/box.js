var boxFile = 1;
